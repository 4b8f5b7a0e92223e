"""Celery app. Tasks live in each app's tasks.py (autodiscovered); the beat schedule is CELERY_BEAT_SCHEDULE
in config/settings/base.py."""

import os
from typing import Any

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
app = Celery("mchis")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _tune_collector(**_: Any) -> None:
    """Each pool process, once forked and set up: the collector as in the web workers (ADR 0082)."""
    from django.conf import settings

    from mchis.core.collector import freeze_startup_objects

    freeze_startup_objects(settings.GC_YOUNG_THRESHOLD)
