from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mchis.accounts"
    label = "accounts"
    verbose_name = "Tài khoản"

    def ready(self) -> None:
        from mchis.core.cards import register_card

        from .home import admin_cards

        register_card(admin_cards)
