from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "mchis.documents"
    label = "documents"
    verbose_name = "Tài liệu ký số"
