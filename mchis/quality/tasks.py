"""Scheduled jobs of the quality app (Celery beat): nightly full rule scan, weekly duplicate scan.

The schedule is CELERY_BEAT_SCHEDULE in config/settings/base.py. Both jobs are idempotent: the rule
scan resumes an interrupted run from its checkpoint; the duplicate scan skips pairs already queued or
already marked "not a duplicate".
"""

from __future__ import annotations

from celery import shared_task

from .dedupe import scan_duplicates
from .engine import scan_run
from .services import duplicate_candidates_store


@shared_task(name="quality.full_rule_scan", acks_late=True)
def full_rule_scan() -> dict[str, int]:
    scan = scan_run()
    return {"scan": scan.pk, "records": scan.records}


@shared_task(name="quality.duplicate_scan", acks_late=True)
def duplicate_scan() -> dict[str, int]:
    pairs = scan_duplicates()
    return duplicate_candidates_store(
        actor=None, pairs=[(p.child_a, p.child_b, p.probability, p.unit_id) for p in pairs]
    )
