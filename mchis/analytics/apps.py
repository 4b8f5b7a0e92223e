from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "mchis.analytics"
    label = "analytics"
    verbose_name = "Phân tích số liệu"

    def ready(self) -> None:
        from mchis.core.changes import on_report_figures_changed, on_unit_months_changed

        from . import cards  # noqa: F401 - the commune home's month at a glance
        from .store import mark_dirty, mark_report_dirty

        on_unit_months_changed(mark_dirty)
        on_report_figures_changed(mark_report_dirty)  # in the report's transaction (ADR 0076)
