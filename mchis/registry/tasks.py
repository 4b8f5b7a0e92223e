"""Background jobs of the registry: cleanup of import previews and orphaned evidence files (hourly).

The schedule is declared here (config/celery.py autodiscovers tasks.py). Both jobs are idempotent.
"""

from __future__ import annotations

from celery import shared_task
from celery.schedules import crontab

from config.celery import app

BEAT_SCHEDULE = {
    "registry-expire-import-previews": {"task": "registry.expire_previews", "schedule": crontab(minute=20)},
    "registry-sweep-evidence": {"task": "registry.sweep_evidence", "schedule": crontab(minute=25)},
}
app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), **BEAT_SCHEDULE}


@shared_task(name="registry.expire_previews")
def expire_previews() -> int:
    from .previews import previews_expire

    return previews_expire()


@shared_task(name="registry.sweep_evidence")
def sweep_evidence() -> int:
    from .services import evidence_sweep

    return evidence_sweep()
