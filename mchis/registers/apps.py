from django.apps import AppConfig


class RegistersConfig(AppConfig):
    name = "mchis.registers"
    label = "registers"
    verbose_name = "Sổ SKBMTE/SKSS"
