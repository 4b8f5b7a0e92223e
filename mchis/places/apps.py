from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "mchis.places"
    label = "places"
    verbose_name = "Đơn vị hành chính"
