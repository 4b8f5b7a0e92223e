"""Reads of the registers, always scoped (mchis.core.scoping)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from mchis.core.principal import Principal
from mchis.core.scoping import access, visible_to, visible_under
from mchis.core.text import fold

from .definitions import get_register
from .models import IngestBatch, PendingUpload, PeriodLock, SyncActivity


def is_period_locked(unit: Any, month: date) -> bool:
    """Is (unit, month) locked by an approved report? `unit` is a ReportingUnit or its id."""
    unit_id = getattr(unit, "pk", unit)
    return PeriodLock.objects.filter(unit_id=unit_id, month=month.replace(day=1)).exists()


def records_list(
    *, principal: Principal, register: str, unit: Any | None = None, month: date | None = None, q: str = ""
) -> QuerySet[Any]:
    """Records of one register visible to the principal, optionally one facility (and its subtree) and month."""
    reg = get_register(register)
    qs = visible_to(reg.model.objects.all(), principal).select_related("facility")
    if unit is not None:
        qs = visible_under(qs, unit, lookup="facility__path")
    if month is not None:
        qs = qs.filter(month=month.replace(day=1))
    if q:
        folded = fold(q)
        qs = qs.filter(
            Q(full_name_folded__contains=folded) | Q(personal_id=q.strip()) | Q(source_record_id=q.strip())
        )
    if reg.newborns:
        qs = qs.prefetch_related("newborns")
    return qs.order_by("-event_date", "-id")


def latest_month(*, principal: Principal, register: str, unit: Any | None = None) -> date | None:
    """The latest month that has records visible to the principal (the register list opens on it)."""
    reg = get_register(register)
    qs = visible_to(reg.model.objects.all(), principal)
    if unit is not None:
        qs = qs.filter(facility__path__startswith=unit.path)
    latest: date | None = qs.aggregate(latest=Max("month"))["latest"]
    return latest


def record_get(*, principal: Principal, register: str, pk: int) -> Any:
    reg = get_register(register)
    return access(reg.model.objects.select_related("facility"), principal, pk=pk)


def batch_get(*, principal: Principal, batch_id: str) -> IngestBatch:
    """An ingest batch/job: visible to the principal that sent it and to the levels above it."""
    return access(IngestBatch.objects.all(), principal, pk=batch_id)


def upload_get(*, principal: Principal, upload_id: str) -> PendingUpload:
    return access(PendingUpload.objects.select_related("unit"), principal, pk=upload_id)


@dataclass
class SyncRow:
    facility_id: int
    facility_code: str
    facility_name: str
    source_system: str
    last_success: datetime | None
    last_batch: datetime | None
    records_24h: int
    errors_24h: int
    errors_7d: int
    silent: bool


def sync_status(
    *, principal: Principal, silent_days: int | None = None, now: datetime | None = None
) -> list[SyncRow]:
    """Per facility and source system: last successful batch, records in 24 h, errors, silent flag (R-INT-03)."""
    now = now or timezone.now()
    days = silent_days if silent_days is not None else getattr(settings, "REGISTERS_SILENT_DAYS", 3)
    day_ago, week_ago = now - timedelta(hours=24), now - timedelta(days=7)
    rows = (
        visible_to(SyncActivity.objects.all(), principal)
        .values("facility_id", "facility__code", "facility__name", "source_system")
        .annotate(
            last_success=Max("at", filter=Q(succeeded=True)),
            last_batch=Max("at"),
            records_24h=Sum("records", filter=Q(at__gte=day_ago), default=0),
            errors_24h=Sum("rejected", filter=Q(at__gte=day_ago), default=0),
            errors_7d=Sum("rejected", filter=Q(at__gte=week_ago), default=0),
            batches=Count("id"),
        )
        .order_by("facility__code", "source_system")
    )
    cutoff = now - timedelta(days=days)
    return [
        SyncRow(
            facility_id=r["facility_id"],
            facility_code=r["facility__code"],
            facility_name=r["facility__name"],
            source_system=r["source_system"],
            last_success=r["last_success"],
            last_batch=r["last_batch"],
            records_24h=r["records_24h"] or 0,
            errors_24h=r["errors_24h"] or 0,
            errors_7d=r["errors_7d"] or 0,
            silent=r["last_success"] is None or r["last_success"] < cutoff,
        )
        for r in rows
    ]
