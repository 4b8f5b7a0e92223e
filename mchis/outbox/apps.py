from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "mchis.outbox"
    label = "outbox"
    verbose_name = "Hàng đợi gửi liên thông"
