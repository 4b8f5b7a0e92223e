"""Reads of the ops app. Operations data is system-wide (no unit owns a backup): only operators see it,
through the restricted /metrics and the management commands."""

from __future__ import annotations

from datetime import datetime

from .models import OpsRun, RunKind, RunStatus

BACKUP_KINDS = (RunKind.SQLITE_BACKUP, RunKind.PG_FULL, RunKind.PG_DIFF)


def last_success_at(kinds: tuple[RunKind, ...]) -> datetime | None:
    run = OpsRun.objects.filter(kind__in=kinds, status=RunStatus.SUCCESS).order_by("-finished_at").first()
    return run.finished_at if run else None


def last_run(kinds: tuple[RunKind, ...]) -> OpsRun | None:
    return OpsRun.objects.filter(kind__in=kinds).order_by("-started_at", "-id").first()


def failures_total() -> dict[str, int]:
    """{kind: failed runs} for every kind (zero included, so alerting sees the series from the start)."""
    counts = {kind.value: 0 for kind in RunKind}
    for kind in OpsRun.objects.filter(status=RunStatus.FAILED).values_list("kind", flat=True):
        counts[kind] = counts.get(kind, 0) + 1
    return counts
