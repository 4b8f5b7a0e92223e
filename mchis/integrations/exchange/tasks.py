"""Celery tasks of the outbound exchanges: deliver one partner's stream; dispatch every partner."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from mchis.core.jobs import enqueue, runs_in_place

from . import engine


@shared_task(  # type: ignore[untyped-decorator]
    name="integrations.exchange_deliver",
    acks_late=True,  # a worker killed mid-delivery leaves the message to another worker
    reject_on_worker_lost=True,
    autoretry_for=(engine.DeliveryRetry,),
    max_retries=engine.MAX_ATTEMPTS - 1,
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
)
def exchange_deliver(partner: str) -> dict[str, Any]:
    """Drain the partner's stream. A transient failure raises DeliveryRetry: Celery runs the task again with
    jittered exponential back-off; the outbox rows count the attempts (the one counter) and turn dead
    letters at engine.MAX_ATTEMPTS. Without a broker (demo) the next dispatch tries again instead."""
    report = engine.deliver_partner(partner)
    if report.retried and not runs_in_place():
        raise engine.DeliveryRetry(f"{partner}: {report.failure_kind}")
    return report.as_dict()


@shared_task(name="integrations.exchange_dispatch")  # type: ignore[untyped-decorator]
def exchange_dispatch() -> list[str]:
    """Scheduled: queue a delivery for every configured push partner (a busy one returns at once)."""
    started = []
    for partner in engine.pushed_partners():
        try:
            engine.partner_config(partner)
        except engine.DeliveryNotConfigured:
            continue
        enqueue("integrations.exchange_deliver", partner)
        started.append(partner)
    return started
