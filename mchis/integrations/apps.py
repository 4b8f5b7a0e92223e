from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "mchis.integrations"
    label = "integrations"
    verbose_name = "Kết nối liên thông"

    def ready(self) -> None:
        from mchis.registry.hooks import provide_identity_check

        from .population.services import population_check_start

        provide_identity_check(population_check_start)
