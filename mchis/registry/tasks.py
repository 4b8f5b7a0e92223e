"""Background jobs of the registry: cleanup of import previews and orphaned evidence files (hourly).

The schedule is CELERY_BEAT_SCHEDULE in config/settings/base.py. Both jobs are idempotent.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="registry.expire_previews")
def expire_previews() -> int:
    from .previews import previews_expire

    return previews_expire()


@shared_task(name="registry.sweep_evidence")
def sweep_evidence() -> int:
    from .services import evidence_sweep

    return evidence_sweep()
