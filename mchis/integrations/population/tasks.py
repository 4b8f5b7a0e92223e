"""Celery tasks of the population gateway: run one check (retried by Celery with backoff); sweep lost ones."""

from __future__ import annotations

from celery import shared_task

from .services import MAX_ATTEMPTS, population_check_run
from .services import population_retry_pending as population_retry_pending_sweep
from .types import GatewayUnavailable


@shared_task(
    name="integrations.population_check",
    acks_late=True,
    autoretry_for=(GatewayUnavailable,),
    max_retries=MAX_ATTEMPTS - 1,
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
)
def population_check(verification_id: int) -> str:
    """One attempt per run; Celery retries a gateway error with jittered exponential backoff. The row counts the
    attempts and turns FAILED (returned, so no further retry) on the last one."""
    return population_check_run(verification_id).status


@shared_task(name="integrations.population_retry_pending")
def population_retry_pending() -> int:
    return population_retry_pending_sweep()
