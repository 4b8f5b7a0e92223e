from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "mchis.web"
    label = "web"
    verbose_name = "Giao diện"
