from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "mchis.registry"
    label = "registry"
    verbose_name = "Sổ theo dõi trẻ em"

    def ready(self) -> None:
        from . import cards  # noqa: F401 - registers the home-page cards
