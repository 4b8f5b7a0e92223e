"""Celery app. Scheduled jobs (beat) are declared by each domain app in its tasks.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
app = Celery("mchis")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
