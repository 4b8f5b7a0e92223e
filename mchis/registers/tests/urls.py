"""Test URLconf: the project's URLs; if another app's work in progress breaks them, the API, the accounts and
the registers pages alone (so these tests keep testing the registers)."""

from django.urls import include, path

try:
    from config.urls import urlpatterns
except Exception:  # any import error elsewhere in the tree
    from config.api import api

    urlpatterns = [
        path("api/v1/", api.urls),
        path("accounts/", include("mchis.accounts.urls")),
        path("i18n/", include("django.conf.urls.i18n")),
        path("registers/", include("mchis.registers.urls")),
    ]
