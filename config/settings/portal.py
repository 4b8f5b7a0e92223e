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

    DATABASES["default"] = dj_database_url.parse(os.environ["PORTAL_DATABASE_URL"], conn_max_age=60)
# Nobody signs in here: no session is written, and nothing else is served.
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
