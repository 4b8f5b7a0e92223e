from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "mchis.portal"
    label = "portal"
    verbose_name = "Cổng thông tin thống kê công khai"

    def ready(self) -> None:
        from mchis.core.changes import on_report_figures_changed

        from .services import figures_follow_approval

        # after the report's commit: approvals revise, un-approvals put under review (ADR 0076)
        on_report_figures_changed(figures_follow_approval, after_commit=True)
