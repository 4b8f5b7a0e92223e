"""Every write to the registers (sổ SKBMTE/SKSS), one import away: the app's services, split along their seams.

- `locks`: period locks (khóa số liệu kỳ báo cáo) and voiding a record;
- `ingest`: the batch engine shared by the web form, the Excel confirmation and the bulk API (a pure
  `classify`, then `write_plan`), and single records from the web form;
- `writer`: the fast row writer (COPY + INSERT … ON CONFLICT on PostgreSQL);
- `batches`: bulk API idempotency and async jobs;
- `uploads`: Excel preview → confirm / discard, and the cleanup of expired previews;
- `newborns`: a live-born baby handed to the child registry.

Callers outside the app import from here; each write is `@transaction.atomic` and audited in its own module.
"""

from __future__ import annotations

from .batches import StoredPrincipal, batch_ingest, batch_run_async, job_status, request_fingerprint
from .ingest import MAX_BATCH, BatchResult, build_context, check_structure, record_save, records_upsert
from .locks import lock_message, period_lock, period_unlock, record_void
from .newborns import newborn_handoff
from .uploads import UPLOAD_PREVIEW_TTL_HOURS, upload_commit, upload_discard, upload_preview, uploads_expire

__all__ = [
    "MAX_BATCH",
    "UPLOAD_PREVIEW_TTL_HOURS",
    "BatchResult",
    "StoredPrincipal",
    "batch_ingest",
    "batch_run_async",
    "build_context",
    "check_structure",
    "job_status",
    "lock_message",
    "newborn_handoff",
    "period_lock",
    "period_unlock",
    "record_save",
    "record_void",
    "records_upsert",
    "request_fingerprint",
    "upload_commit",
    "upload_discard",
    "upload_preview",
    "uploads_expire",
]
