"""Celery tasks of the population gateway: run one check with exponential backoff; sweep pending ones."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from config.celery import app

from .types import GatewayUnavailable

BEAT_SCHEDULE = {
    "population-retry-pending": {"task": "integrations.population_retry_pending", "schedule": 600.0},
}
app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), **BEAT_SCHEDULE}


@shared_task(
    bind=True,
    name="integrations.population_check",
    acks_late=True,
    max_retries=6,
    retry_backoff=True,
    retry_backoff_max=600,
)
def population_check(self: Any, verification_id: int) -> str:
    from .services import population_check_run

    try:
        return population_check_run(verification_id).status
    except GatewayUnavailable as exc:
        if self.request.is_eager:
            raise  # no broker: the sweep retries later; the row is still pending
        raise self.retry(exc=exc, countdown=min(600, 2 ** (self.request.retries + 1) * 5)) from exc


@shared_task(name="integrations.population_retry_pending")
def population_retry_pending() -> int:
    from .services import population_retry_pending as sweep

    return sweep()
