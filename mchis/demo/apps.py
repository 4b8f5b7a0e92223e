from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "mchis.demo"
    label = "demo"
    verbose_name = "Dữ liệu mô phỏng"
