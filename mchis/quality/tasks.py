"""Scheduled jobs of the quality app (Celery beat): nightly full rule scan, weekly duplicate scan.

The schedule is declared here (config/celery.py autodiscovers tasks.py). Both jobs are idempotent: the rule
scan resumes an interrupted run from its checkpoint; the duplicate scan skips pairs already queued or
already marked "not a duplicate".
"""

from __future__ import annotations

from celery import shared_task
from celery.schedules import crontab

from config.celery import app

BEAT_SCHEDULE = {
    "quality-full-rule-scan": {"task": "quality.full_rule_scan", "schedule": crontab(hour=1, minute=30)},
    "quality-duplicate-scan": {
        "task": "quality.duplicate_scan",
        "schedule": crontab(hour=2, minute=30, day_of_week="sunday"),
    },
}
app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), **BEAT_SCHEDULE}


@shared_task(name="quality.full_rule_scan", acks_late=True)
def full_rule_scan() -> dict[str, int]:
    from .engine import scan_run

    scan = scan_run()
    return {"scan": scan.pk, "records": scan.records}


@shared_task(name="quality.duplicate_scan", acks_late=True)
def duplicate_scan() -> dict[str, int]:
    from .dedupe import scan_duplicates
    from .services import duplicate_candidates_store

    pairs = scan_duplicates()
    return duplicate_candidates_store(
        actor=None, pairs=[(p.child_a, p.child_b, p.probability, p.unit_id) for p in pairs]
    )
