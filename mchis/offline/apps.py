from django.apps import AppConfig


class OfflineConfig(AppConfig):
    name = "mchis.offline"
    label = "offline"
    verbose_name = "Nhập liệu ngoại tuyến"
