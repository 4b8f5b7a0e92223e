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
        from .handbook.services import NAME as HANDBOOK
        from .handbook.services import TOPICS as HANDBOOK_TOPICS
        from .population.services import population_check_start
        from .statistics.adapter import NAME as STATISTICS
        from .statistics.adapter import TOPICS as STATISTICS_TOPICS
        from .statistics.adapter import StatisticsAdapter

        provide_identity_check(population_check_start)
        # Which outbound partner receives which domain change (the domain apps only enqueue a topic).
        register_adapter(EhrAdapter())
        for topic in EHR_TOPICS:
            subscribe(topic, EHR)
        for topic in HANDBOOK_TOPICS:  # pulled by the app through the feed (no push adapter)
            subscribe(topic, HANDBOOK)
        register_adapter(StatisticsAdapter())
        for topic in STATISTICS_TOPICS:
            subscribe(topic, STATISTICS)
