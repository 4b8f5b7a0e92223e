"""The beat schedule lives in settings (CELERY_BEAT_SCHEDULE) and every entry names a task that exists."""

from __future__ import annotations

from django.conf import settings

from config.celery import app


def test_every_scheduled_job_names_a_registered_task():
    app.loader.import_default_modules()  # what a worker does at start: autodiscover every app's tasks.py
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled == {
        "quality.full_rule_scan",
        "quality.duplicate_scan",
        "reports.send_reminders",
        "integrations.population_retry_pending",
        "integrations.exchange_dispatch",
        "registers.expire_uploads",
        "registry.expire_previews",
        "registry.sweep_evidence",
        "ops.backup",
        "ops.verify",
        "ops.restore_drill",
        "ops.heartbeat",
        "analytics.sweep",
    }
    assert scheduled <= set(app.tasks)
    assert app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE  # nothing added behind settings' back
