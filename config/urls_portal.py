"""URL conf of the public portal run as its own process (config.settings.portal, docs/portal.md): only
/public/ (its pages and downloads) and the static files; no login, no API, no other app's pages."""

from django.urls import include, path

urlpatterns = [
    path("public/", include("mchis.portal.public.urls")),
]

handler404 = "mchis.portal.public.views.not_found"
