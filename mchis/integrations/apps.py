from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "mchis.integrations"
    label = "integrations"
    verbose_name = "Kết nối liên thông"
