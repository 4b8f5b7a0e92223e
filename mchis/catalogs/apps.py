from django.apps import AppConfig


class CatalogsConfig(AppConfig):
    name = "mchis.catalogs"
    label = "catalogs"
    verbose_name = "Danh mục dùng chung"
