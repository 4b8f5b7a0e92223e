"""Celery app. Tasks live in each app's tasks.py (autodiscovered); the beat schedule is CELERY_BEAT_SCHEDULE
in config/settings/base.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
app = Celery("mchis")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
