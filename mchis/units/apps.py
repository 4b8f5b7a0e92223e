from django.apps import AppConfig


class UnitsConfig(AppConfig):
    name = "mchis.units"
    label = "units"
    verbose_name = "Đơn vị báo cáo"
