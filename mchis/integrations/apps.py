from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "mchis.integrations"
    label = "integrations"
    verbose_name = "Kết nối liên thông"

    def ready(self) -> None:
        from mchis.outbox.routing import subscribe
        from mchis.registry.hooks import provide_identity_check

        from .ehr.adapter import NAME as EHR
        from .ehr.adapter import TOPICS as EHR_TOPICS
        from .ehr.adapter import EhrAdapter
        from .exchange.engine import register_adapter
        from .population.services import population_check_start

        provide_identity_check(population_check_start)
        # Which outbound partner receives which domain change (the domain apps only enqueue a topic).
        register_adapter(EhrAdapter())
        for topic in EHR_TOPICS:
            subscribe(topic, EHR)
