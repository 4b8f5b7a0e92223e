from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "mchis.portal"
    label = "portal"
    verbose_name = "Cổng thông tin thống kê công khai"

    def ready(self) -> None:
        from mchis.reports.hooks import on_approval_changed

        from .services import figures_follow_approval

        on_approval_changed(figures_follow_approval)
