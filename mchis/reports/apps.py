from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "mchis.reports"
    label = "reports"
    verbose_name = "Báo cáo thống kê"

    def ready(self) -> None:
        from . import returned  # noqa: F401 - registers the home page's "returned to me" items
