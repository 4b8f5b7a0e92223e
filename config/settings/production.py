"""Production settings: PostgreSQL + Redis, HTTPS only. Passes `manage.py check --deploy`."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_list

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "")
# never derived from SECRET_KEY here: the key that unlocks our signing keys lives only in the environment (ADR 0071)
EXCHANGE_KEY_ENCRYPTION_KEY = os.environ.get("EXCHANGE_KEY_ENCRYPTION_KEY", "")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random string of at least 50 characters.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Behind one reverse proxy (nginx) by default: it appends the client address to X-Forwarded-For, and only the
# entry it wrote is trusted (the client can prepend anything). Set 0 when served directly, 2 behind a CDN + nginx.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "1"))

API_DOCS_PUBLIC = False  # never in production, whatever the environment says

SECURE_SSL_REDIRECT = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")}}  # noqa: F405
