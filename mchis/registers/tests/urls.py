"""Test URLconf: the API and the registers pages only, so other apps' work in progress cannot break these tests."""

from django.urls import include, path

from config.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("registers/", include("mchis.registers.urls")),
]
