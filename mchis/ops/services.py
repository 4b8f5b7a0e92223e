"""Every write of the ops app: one record per backup, verification, restore or drill, audited (R-OPS-01)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from mchis.core.audit import log_event

from .models import OpsRun, RunKind, RunStatus

_ACTIONS = {
    RunKind.SQLITE_BACKUP: "ops.backup",
    RunKind.PG_FULL: "ops.backup",
    RunKind.PG_DIFF: "ops.backup",
    RunKind.EVIDENCE: "ops.backup",
    RunKind.VERIFY: "ops.verify",
    RunKind.DRILL: "ops.drill",
    RunKind.RESTORE: "ops.restore",
}


@transaction.atomic
def ops_run_record(
    *,
    kind: RunKind,
    started_at: datetime,
    ok: bool,
    copies: list[dict[str, Any]] | None = None,
    detail: dict[str, Any] | None = None,
    error: str = "",
) -> OpsRun:
    """Record what a backup / verification / drill did (the system acts: no person)."""
    run = OpsRun.objects.create(
        kind=kind,
        status=RunStatus.SUCCESS if ok else RunStatus.FAILED,
        started_at=started_at,
        finished_at=timezone.now(),
        copies=copies or [],
        detail=detail or {},
        error=error,
    )
    log_event(
        actor=None,
        action=_ACTIONS[kind],
        object_type="ops.run",
        object_id=run.pk,
        changes={
            "kind": [None, kind.value],
            "status": [None, run.status],
            "copies": [None, sum(1 for c in run.copies if c.get("ok"))],
        },
        reason=error[:500],
    )
    return run
