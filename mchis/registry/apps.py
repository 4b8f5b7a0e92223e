from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "mchis.registry"
    label = "registry"
    verbose_name = "Sổ theo dõi trẻ em"
