from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mchis.accounts"
    label = "accounts"
    verbose_name = "Tài khoản"
