from django.urls import include, path

from config.api import api
from mchis.core.views import health
from mchis.offline import views as offline_views

urlpatterns = [
    path("health", health, name="health"),
    # The installable app (docs/offline.md): the service worker at the root, so its scope covers every page.
    path("sw.js", offline_views.service_worker, name="service_worker"),
    path("manifest.webmanifest", offline_views.manifest, name="manifest"),
    path("offline/", include("mchis.offline.urls")),
    path("", include("mchis.ops.urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("mchis.accounts.urls")),
    path("places/", include("mchis.places.urls")),
    path("units/", include("mchis.units.urls")),
    path("catalogs/", include("mchis.catalogs.urls")),
    path("children/", include("mchis.registry.urls")),
    path("quality/", include("mchis.quality.urls")),
    path("registers/", include("mchis.registers.urls")),
    path("reports/", include("mchis.reports.urls")),
    path("analytics/", include("mchis.analytics.urls")),
    path("audit/", include("mchis.core.urls")),
    path("documents/", include("mchis.documents.urls")),
    path("notifications/", include("mchis.notifications.urls")),
    path("exchanges/", include("mchis.integrations.urls")),
    path("portal/", include("mchis.portal.urls")),
    path("public/", include("mchis.portal.public.urls")),
    path("", include("mchis.web.urls")),
]

# Refusals and errors are Vietnamese pages inside the layout with a way back (mchis.web.views).
handler403 = "mchis.web.views.handler403"
handler404 = "mchis.web.views.handler404"
handler500 = "mchis.web.views.handler500"
