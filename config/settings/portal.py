"""The public statistics portal as a separate process (docs/portal.md).

Serves only /public/ (config.urls_portal) against a read-only copy of the database: PORTAL_DATABASE_URL (a
streaming replica, or a role granted SELECT on the portal_* tables only) - the portal never writes. Its cache
is its own (REDIS_URL or process memory); the published store's stamp (Publication.changed_at) invalidates it
when the primary publishes.
"""

import os

from .base import *  # noqa: F403
from .base import DATABASES

ROOT_URLCONF = "config.urls_portal"
if os.environ.get("PORTAL_DATABASE_URL"):
    import dj_database_url

    DATABASES["default"] = dj_database_url.parse(os.environ["PORTAL_DATABASE_URL"])
DATABASES["default"]["CONN_MAX_AGE"] = 60  # keep connections: a cached page costs one small query
# Pages follow a publication within this many seconds (the store's stamp is read once per interval, not per
# request); the main process keeps reading it on every request (0).
PORTAL_STAMP_SECONDS = float(os.environ.get("PORTAL_STAMP_SECONDS", "2"))
# Nobody signs in here: no session is written, and nothing else is served.
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"

# Anonymous public pages only: no sessions, sign-in, CSRF, second factor, lockout or messages to run. The
# security headers (CSP, frame, referrer), input checks, language and metrics stay.
MIDDLEWARE = [
    "mchis.ops.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mchis.web.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mchis.core.middleware.RequestContextMiddleware",
    "mchis.core.middleware.InputSanitizingMiddleware",
    "mchis.core.middleware.SecurityHeadersMiddleware",
    "mchis.core.middleware.DomainErrorMiddleware",
]
