from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "mchis.ops"
    label = "ops"
    verbose_name = "Vận hành (sao lưu, giám sát, phát hành)"

    def ready(self) -> None:
        from . import metrics

        metrics.install()
