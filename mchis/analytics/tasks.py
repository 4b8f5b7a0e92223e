"""Analytics jobs: recompute the dirty unit-months (queued by every write, after commit) and the daily sweep."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from .store import recompute_dirty, sweep


@shared_task(name="analytics.recompute_dirty", acks_late=True)
def recompute_dirty_task() -> int:
    return recompute_dirty()


@shared_task(name="analytics.sweep", acks_late=True)
def sweep_task() -> dict[str, Any]:
    return sweep()
