"""Background jobs of the registers: async bulk-API batches (?async=true)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="registers.run_ingest_batch", acks_late=True)
def run_ingest_batch(batch_id: str) -> None:
    """Idempotent: a job already started or finished is left alone."""
    from .services import batch_run_async

    batch_run_async(batch_id=batch_id)
