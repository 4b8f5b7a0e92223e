from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mchis.core"
    label = "core"
    verbose_name = "Lõi hệ thống"
