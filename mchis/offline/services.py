"""Every write of the offline outbox's arrival (docs/offline.md, ADR 0041).

A station's device sends its queued entries in the order they were made; each is handed to the domain service
that the web page would have called (registry proposals, register records), with the browser's id as the
idempotency key. The fate of each entry is kept in `OfflineItem`, so a replay (a lost answer, a second tab, a
background sync racing the button) answers the same and creates nothing twice. A refused entry keeps the
server's Vietnamese message; the person fixes it and sends it again under the same id.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from mchis.accounts.permissions import require, require_person
from mchis.accounts.principals import as_person
from mchis.core.audit import log_event
from mchis.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from mchis.core.principal import Principal
from mchis.registers import selectors as register_selectors
from mchis.registers import services as register_services
from mchis.registers.definitions import REGISTERS, RegisterDef
from mchis.registers.webform import form_data, post_of, record_form_fields
from mchis.registry import selectors as registry_selectors
from mchis.registry import services as registry_services
from mchis.registry import validation as child_validation
from mchis.registry.forms import ChildForm

from .conflicts import conflict_rows
from .models import ItemKind, ItemStatus, OfflineItem, RecordConflict, StationSync

logger = logging.getLogger(__name__)

MAX_ITEMS = 50  # per call: the device sends its queue in pages of this size


@dataclass(frozen=True)
class Entry:
    """One queued entry as the device sends it: the form's fields as typed, and where they apply."""

    client_id: uuid.UUID
    kind: str
    fields: dict[str, Any]
    register: str = ""
    child: str = ""  # public id of the child (change proposals)
    base_version: int | None = None
    queued_at: datetime | None = None
    record: int | None = None  # register edits: the record's id
    base_hash: str = ""  # register edits: the record's row_hash when the form was opened
    base_fields: dict[str, Any] | None = None  # register edits: the form as it was opened (the "base" side)


def _unit(actor: Principal) -> Any:
    unit = getattr(actor, "unit", None)
    if unit is None:
        raise PermissionDeniedError("Tài khoản không thuộc đơn vị nào: không nhập ngoại tuyến được.")
    return unit


def _proposal_args(entry: Entry) -> dict[str, Any]:
    """What the child form's fields say beyond the child's values (reason, real date, acknowledgements)."""
    fields = entry.fields
    return {
        "reason": str(fields.get("reason", "")),
        "event_date": _event_date(fields),
        "client_key": str(entry.client_id),
        "acknowledge_warnings": fields.get("acknowledge_warnings") in ("on", True, "true"),
    }


def _child_create(actor: Principal, unit: Any, entry: Entry) -> tuple[str, str]:
    fields = entry.fields
    confirmed = fields.get("not_duplicate") in ("on", True, "true")
    request = registry_services.child_propose_create(
        actor=actor,
        unit=unit,
        data=ChildForm(data=fields).child_data(),
        not_duplicate_reason=str(fields.get("not_duplicate_reason", "")).strip() if confirmed else "",
        **_proposal_args(entry),
    )
    return str(request.public_id), ItemStatus.ACCEPTED


def _event_date(fields: dict[str, Any]) -> str | None:
    try:
        return child_validation.parse_date(fields.get("event_date"), "event_date")
    except child_validation.ParseError as exc:
        raise DomainError(
            "Ngày xảy ra thay đổi: ngày không hợp lệ (dd/mm/yyyy).", field="event_date"
        ) from exc


def _child_change(actor: Principal, entry: Entry) -> tuple[str, str]:
    try:
        child = registry_selectors.child_get(actor, entry.child)
    except Exception as exc:  # Http404 / DoesNotExist / bad id: the same answer, never a 500
        raise DomainError(
            "Không tìm thấy hồ sơ trẻ (đã bị xóa, gộp hoặc chuyển đơn vị).", field="child"
        ) from exc
    request = registry_services.child_propose_change(
        actor=actor,
        child=child,
        changes=ChildForm(data=entry.fields).child_data(),
        base_version=entry.base_version,
        **_proposal_args(entry),
    )
    status = ItemStatus.CONFLICT if request.has_open_conflict else ItemStatus.ACCEPTED
    return str(request.public_id), status


def _register_record(actor: Principal, entry: Entry) -> tuple[str, str]:
    reg = REGISTERS.get(entry.register)
    if reg is None:
        raise DomainError("Sổ không tồn tại.", field="register")
    data = form_data(reg, entry.fields)
    data["source_system"] = "web"
    data["source_record_id"] = entry.client_id.hex  # the upsert key: a replay finds the same row
    if not data.get("facility"):
        data["facility"] = _unit(actor).code
    record, errors = register_services.record_save(actor=actor, register=reg.key, data=data)
    if record is None:
        raise ValidationFailed(
            [{"field": e.get("field", ""), "message": e.get("reason", "")} for e in errors],
            message="; ".join(e.get("reason", "") for e in errors[:5]) or "Dữ liệu không hợp lệ.",
        )
    return f"{reg.key}:{record.pk}", ItemStatus.ACCEPTED


def _save_or_refuse(actor: Principal, reg: RegisterDef, post: dict[str, Any], record: Any) -> Any:
    """The register's own write (validation, period lock, audit), as the edit page calls it."""
    saved, errors = register_services.record_save(
        actor=actor, register=reg.key, data=form_data(reg, post), instance=record
    )
    if saved is None:
        raise ValidationFailed(
            [{"field": e.get("field", ""), "message": e.get("reason", "")} for e in errors],
            message="; ".join(e.get("reason", "") for e in errors[:5]) or "Dữ liệu không hợp lệ.",
        )
    return saved


def _own_record(actor: Principal, unit: Any, reg: RegisterDef, pk: int | None, *, lock: bool = False) -> Any:
    """A record of the station's own registers (its own unit, not the subtree), else a Vietnamese refusal."""
    missing = DomainError(
        "Bản ghi sổ không thuộc đơn vị của bạn hoặc không còn tồn tại: không sửa ngoại tuyến được.",
        field="record",
    )
    if not pk:
        raise missing
    try:
        record = register_selectors.record_get(principal=actor, register=reg.key, pk=pk)
    except Exception as exc:  # Http404 (outside the scope, audited by `access`) / bad id: one answer
        raise missing from exc
    if record.facility_id != unit.pk:
        raise missing
    if lock:
        record = type(record).objects.select_for_update().select_related("facility").get(pk=record.pk)
    if record.voided_at is not None:
        raise DomainError("Bản ghi này đã bị hủy trên máy chủ: không sửa được.", field="record")
    return record


def _register_edit(actor: Principal, unit: Any, entry: Entry) -> tuple[str, str]:
    """An existing record edited offline: written if the record is still the version the form showed, else
    kept as a conflict for the unit to resolve field by field - never the last write winning."""
    reg = REGISTERS.get(entry.register)
    if reg is None:
        raise DomainError("Sổ không tồn tại.", field="register")
    if not entry.base_hash:
        raise DomainError("Thiếu phiên bản gốc của bản ghi: mở lại trang sửa khi có mạng.", field="base_hash")
    record = _own_record(actor, unit, reg, entry.record, lock=True)
    ref = f"{reg.key}:{record.pk}"
    ours = {k: str(v) for k, v in entry.fields.items() if isinstance(v, str | int | float)}
    if record.row_hash == entry.base_hash:
        _save_or_refuse(actor, reg, post_of(reg, ours), record)
        return ref, ItemStatus.ACCEPTED
    theirs = record_form_fields(reg, record)
    base = {k: str(v) for k, v in (entry.base_fields or {}).items() if isinstance(v, str | int | float)}
    rows = conflict_rows(reg, base, ours, theirs)
    if not rows:  # the server already holds exactly this edit
        return ref, ItemStatus.ACCEPTED
    conflict, _ = RecordConflict.objects.get_or_create(
        proposer=as_person(actor),
        client_id=entry.client_id,
        defaults={
            "unit": unit,
            "register": reg.key,
            "record_id": record.pk,
            "base_hash": entry.base_hash,
            "theirs_hash": record.row_hash,
            "theirs_at": record.updated_at,
            "fields": ours,
            "conflict": rows,
            "queued_at": entry.queued_at,
        },
    )
    log_event(
        actor=actor,
        action="offline.record_conflict",
        object_type=type(record).__name__,
        object_id=str(record.pk),
        scope_path=unit.path,
        changes={name: [row["theirs"], row["ours"]] for name, row in rows.items()},
        reason=f"Sửa ngoại tuyến trên phiên bản cũ; xung đột {conflict.public_id}",
    )
    return f"conflict:{conflict.public_id}", ItemStatus.CONFLICT


@transaction.atomic
def record_conflict_resolve(
    *, actor: Principal, conflict: RecordConflict, choices: dict[str, str], seen_hash: str, comment: str = ""
) -> RecordConflict:
    """The unit resolves an offline register edit's conflict, field by field ("theirs" keeps the server's
    value, "ours" takes the offline one), through the register's own write; keeping every server value writes
    nothing. The rows are those of the record as it is now: if it changed again since the page was drawn
    (`seen_hash`), nothing is written and the person looks again."""
    require(actor, "register.write")
    conflict = RecordConflict.objects.select_for_update().get(pk=conflict.pk)
    if not conflict.is_open:
        raise DomainError("Xung đột này đã được giải quyết.")
    reg = REGISTERS[conflict.register]
    record = _own_record(actor, conflict.unit, reg, conflict.record_id, lock=True)
    if record.row_hash != seen_hash:
        raise DomainError("Bản ghi vừa được sửa lại trên máy chủ: xem lại các giá trị mới rồi chọn lại.")
    theirs = record_form_fields(reg, record)
    base = {name: row.get("base", "") for name, row in conflict.conflict.items()}
    rows = conflict_rows(reg, base, conflict.fields, theirs)
    for name, row in rows.items():
        if choices.get(name) not in ("theirs", "ours"):
            raise DomainError(f"Chọn giá trị giữ lại cho trường: {row['label']}.", field=name)
    taken = {name: rows[name]["ours"] for name in rows if choices[name] == "ours"}
    if taken:
        _save_or_refuse(actor, reg, post_of(reg, {**theirs, **taken}), record)
    now = timezone.now()
    for name, row in rows.items():
        row["choice"] = choices[name]
    conflict.conflict = rows
    conflict.resolved_at, conflict.resolved_by, conflict.comment = (
        now,
        as_person(actor),
        comment.strip()[:500],
    )
    conflict.save()
    kept = "giữ giá trị trên máy chủ" if not taken else f"lấy {len(taken)} trường từ bản sửa ngoại tuyến"
    OfflineItem.objects.filter(user=conflict.proposer, client_id=conflict.client_id).update(
        status=ItemStatus.ACCEPTED,
        object_ref=f"{reg.key}:{record.pk}",
        message=f"Xung đột đã được giải quyết: {kept}.",
        updated_at=now,
    )
    log_event(
        actor=actor,
        action="offline.record_conflict_resolve",
        object_type=type(record).__name__,
        object_id=str(record.pk),
        scope_path=conflict.unit.path,
        changes={name: [rows[name]["theirs"], value] for name, value in taken.items()},
        reason=comment.strip()[:500] or kept,
    )
    return conflict


def _run(actor: Principal, unit: Any, entry: Entry) -> tuple[str, str]:
    if entry.kind == ItemKind.CHILD_CREATE:
        return _child_create(actor, unit, entry)
    if entry.kind == ItemKind.CHILD_CHANGE:
        return _child_change(actor, entry)
    if entry.kind == ItemKind.REGISTER_RECORD:
        return _register_record(actor, entry)
    if entry.kind == ItemKind.REGISTER_EDIT:
        return _register_edit(actor, unit, entry)
    raise DomainError("Loại mục không hợp lệ.", field="kind")


def _errors_of(exc: DomainError) -> list[dict[str, Any]]:
    errors = getattr(exc, "errors", None)
    if errors:
        return [{"field": e.get("field") or "", "message": e.get("message") or ""} for e in errors]
    return [{"field": exc.field or "", "message": exc.message}]


def _message_of(exc: DomainError) -> str:
    errors = getattr(exc, "errors", None)
    if errors and exc.message in ("Dữ liệu không hợp lệ.",):
        return "; ".join(str(e.get("message") or "") for e in errors[:5])
    return exc.message


def offline_item_submit(*, actor: Principal, entry: Entry) -> OfflineItem:
    """One queued entry: its fate (accepted, conflict, rejected) - the stored one when it was seen before."""
    require_person(actor)
    unit = _unit(actor)
    person = as_person(actor)
    seen = OfflineItem.objects.filter(user=person, client_id=entry.client_id).first()
    if seen is not None and seen.status != ItemStatus.REJECTED:
        return seen  # a replay: same answer, nothing done twice
    try:
        with transaction.atomic():
            register = entry.kind in (ItemKind.REGISTER_RECORD, ItemKind.REGISTER_EDIT)
            require(actor, "register.write" if register else "child.propose")
            object_ref, status = _run(actor, unit, entry)
            message, errors = "", []
    except DomainError as exc:  # refused (rules, rights, scope): the device shows why, the person fixes it
        object_ref, status, message, errors = "", ItemStatus.REJECTED, _message_of(exc), _errors_of(exc)
    except Exception:  # a fault of ours on one entry must not hold the station's whole queue back
        logger.exception("offline entry %s failed", entry.client_id)
        object_ref, status, errors = "", ItemStatus.REJECTED, []
        message = "Máy chủ gặp lỗi khi xử lý mục này; mục được giữ lại, hãy gửi lại sau hoặc báo quản trị."
    return _record(actor, person, unit, entry, seen, object_ref, status, message, errors)


@transaction.atomic
def _record(
    actor: Principal,
    person: Any,
    unit: Any,
    entry: Entry,
    seen: OfflineItem | None,
    object_ref: str,
    status: str,
    message: str,
    errors: list[dict[str, Any]],
) -> OfflineItem:
    item = seen or OfflineItem(user=person, client_id=entry.client_id, unit=unit, attempts=0)
    item.kind, item.register = entry.kind, entry.register
    item.status, item.object_ref, item.message, item.errors = status, object_ref, message, errors
    item.queued_at = entry.queued_at
    item.attempts += 1
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:  # the same entry arrived twice at once: the other answer stands
        return OfflineItem.objects.get(user=person, client_id=entry.client_id)
    log_event(
        actor=actor,
        action="offline.item_receive",
        object_type="offline_item",
        object_id=str(item.client_id),
        scope_path=unit.path,
        changes={"status": [None, status], "object": [None, object_ref or None]},
        reason=message,
    )
    return item


@transaction.atomic
def offline_sync(
    *, actor: Principal, entries: list[Entry], waiting: int
) -> tuple[list[OfflineItem], StationSync]:
    """One device's sync: its entries in order, then its station row. The station row is locked first, so
    two syncs of the same person (two tabs, a background sync racing the button) run one after the other and
    the second finds every entry already answered."""
    require_person(actor)
    unit = _unit(actor)
    StationSync.objects.get_or_create(
        unit=unit, user=as_person(actor), defaults={"last_attempt_at": timezone.now()}
    )
    StationSync.objects.select_for_update().get(unit=unit, user=as_person(actor))
    done = [offline_item_submit(actor=actor, entry=entry) for entry in entries]
    return done, station_sync_record(actor=actor, items=done, waiting=waiting)


@transaction.atomic
def station_sync_record(
    *, actor: Principal, items: list[OfflineItem], waiting: int, now: datetime | None = None
) -> StationSync:
    """The device of (person, unit) reached the server and synced (R-INT-03)."""
    require_person(actor)
    unit = _unit(actor)
    now = now or timezone.now()
    row, _ = StationSync.objects.select_for_update().get_or_create(
        unit=unit, user=as_person(actor), defaults={"last_attempt_at": now}
    )
    row.last_attempt_at = now
    row.last_success_at = now
    row.last_items = len(items)
    row.last_rejected = sum(1 for i in items if i.status == ItemStatus.REJECTED)
    row.last_conflicts = sum(1 for i in items if i.status == ItemStatus.CONFLICT)
    row.total_items += len(items)
    row.waiting = max(0, waiting - len(items))
    row.save()
    return row
