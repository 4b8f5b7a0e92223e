import os

from django.conf import settings
from django.core.asgi import get_asgi_application

from mchis.core.collector import freeze_startup_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
application = get_asgi_application()
freeze_startup_objects(settings.GC_YOUNG_THRESHOLD)  # ADR 0082
