"""Background jobs of the registers: async bulk-API batches (?async=true); expiry of Excel previews."""

from __future__ import annotations

from celery import shared_task

from .services import batch_run_async


@shared_task(name="registers.run_ingest_batch", acks_late=True)
def run_ingest_batch(batch_id: str) -> None:
    """Safe to redeliver (acks_late): a finished batch is left alone, an interrupted one runs again."""
    batch_run_async(batch_id=batch_id)


@shared_task(name="registers.expire_uploads")
def expire_uploads() -> dict[str, int]:
    """Hourly: previews nobody confirmed within a day are discarded and their files removed."""
    from .services import uploads_expire

    return uploads_expire()
