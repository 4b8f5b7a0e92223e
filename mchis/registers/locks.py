"""Period locks (khóa số liệu kỳ báo cáo) and voiding a record: both refuse a locked facility-month.

Reports lock a facility-month on approval and unlock it on un-approval (`period_lock` / `period_unlock`); the
ingest engine asks `locked_months` which of a batch's facility-months are locked and refuses their rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from mchis.accounts.permissions import require
from mchis.accounts.principals import person_of
from mchis.core.audit import log_event
from mchis.core.changes import unit_months_changed
from mchis.core.errors import Conflict, DomainError
from mchis.core.principal import Principal
from mchis.core.scoping import access
from mchis.outbox.services import OutboxItem, outbox_enqueue

from .definitions import get_register
from .models import PeriodLock


def lock_message(unit_name: str, month: date) -> str:
    return (
        f"Kỳ báo cáo {month:%m/%Y} của {unit_name} đã được duyệt và khóa: không thể thêm, sửa số liệu sổ. "
        "Đề nghị cấp trên hủy duyệt báo cáo trước khi sửa."
    )


@transaction.atomic
def period_lock(*, actor: Principal | None, unit: Any, month: date, reason: str = "") -> PeriodLock:
    """Lock a unit's register records of one month (called when its report is approved)."""
    month = month.replace(day=1)
    lock, created = PeriodLock.objects.select_for_update().get_or_create(
        unit=unit,
        month=month,
        defaults={
            "locked_at": timezone.now(),
            "locked_by": person_of(actor),
            "reason": reason[:300],
        },
    )
    if created:
        log_event(
            actor=actor,
            action="register.period_lock",
            object_type="PeriodLock",
            object_id=lock.pk,
            scope_path=unit.path,
            changes={"month": [None, month], "locked": [False, True]},
            reason=reason,
        )
    return lock


@transaction.atomic
def period_unlock(*, actor: Principal | None, unit: Any, month: date, reason: str = "") -> bool:
    """Unlock (report un-approved). Returns False when it was not locked."""
    month = month.replace(day=1)
    lock = PeriodLock.objects.select_for_update().filter(unit=unit, month=month).first()
    if lock is None:
        return False
    lock_id = lock.pk
    lock.delete()
    log_event(
        actor=actor,
        action="register.period_unlock",
        object_type="PeriodLock",
        object_id=lock_id,
        scope_path=unit.path,
        changes={"month": [month, month], "locked": [True, False]},
        reason=reason,
    )
    return True


# --- voiding a record (hủy bản ghi) ---------------------------------------------------------------------------


@transaction.atomic
def record_void(*, actor: Principal, register: str, record_id: int, reason: str) -> Any:
    """Hủy một bản ghi sổ, có lý do: the row stays (history) but leaves every report at once (the report
    engine never counts voided rows). Refused in a locked (approved) month, and when already voided."""

    reg = get_register(register)
    require(actor, "register.write")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Vui lòng nhập lý do hủy bản ghi.", field="reason", code="reason_required")
    if len(reason) > 500:
        raise DomainError("Lý do hủy: tối đa 500 ký tự.", field="reason")
    record = access(
        reg.model.objects.select_for_update(of=("self",)).select_related("facility"), actor, pk=record_id
    )
    if record.voided_at is not None:
        who = getattr(record.voided_by, "username", "") or "hệ thống"
        raise Conflict(
            f"Bản ghi đã bị hủy lúc {timezone.localtime(record.voided_at):%d/%m/%Y %H:%M} bởi {who} "
            f"(lý do: {record.void_reason}). Không hủy lại được.",
            code="already_voided",
        )
    if PeriodLock.objects.filter(unit=record.facility, month=record.month).exists():
        raise Conflict(lock_message(record.facility.name, record.month), code="period_locked")
    record.voided_at = timezone.now()
    record.voided_by = person_of(actor)
    record.void_reason = reason
    record.save(update_fields=["voided_at", "voided_by", "void_reason", "updated_at"])
    unit_months_changed(
        (record.facility_id, value)
        for value in (getattr(record, f.attname) for f in record._meta.concrete_fields)
        if isinstance(value, date)
    )
    log_event(
        actor=actor,
        action="register.void",
        object_type=reg.model.__name__,
        object_id=record.pk,
        scope_path=record.facility.path,
        changes={
            "voided": [False, True],
            "source_record_id": [record.source_record_id, record.source_record_id],
            "month": [record.month, record.month],
        },
        reason=reason,
    )
    outbox_enqueue(topic=f"register.{reg.key}", items=[outbox_item(reg, record, record.facility.path)])
    return record


def locked_months(facility_ids: set[int], months: set[date]) -> set[tuple[int, date]]:
    """The (facility id, month) pairs among these that are locked."""
    if not facility_ids:
        return set()
    return set(
        PeriodLock.objects.filter(unit_id__in=facility_ids, month__in=months).values_list("unit_id", "month")
    )


def outbox_item(reg: Any, row: Any, unit_path: str) -> OutboxItem:
    """The outbound-exchange entry of a written row: ordered per person (personal ID, else the row)."""
    key = f"pid:{row.personal_id}" if row.personal_id else f"{reg.key}:{row.pk}"
    return OutboxItem(reg.model.__name__, row.pk, person_key=key, scope_path=unit_path)
