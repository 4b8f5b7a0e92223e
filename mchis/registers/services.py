"""Every write to the registers (sổ SKBMTE/SKSS): one batch engine used by the web form (a batch of one), the
Excel confirmation and the bulk API (R-MCH-02, R-INT-01); period locks (khóa số liệu kỳ báo cáo).

Batch policy (documented in the API description too):
- A *structurally* malformed batch (not a list, over 5,000 records, an item that is not an object, duplicate
  (facility, source_system, source_record_id) keys inside the batch) is refused whole: nothing is written.
- Otherwise every valid record is written (created / updated / unchanged by fingerprint) and each invalid one is
  listed in `conflicts` with its index, field and reason. Excel confirmation uses the same rule.
- Fast path: lookups are prefetched once per batch; rows are written with one INSERT … ON CONFLICT DO UPDATE per
  chunk (Django bulk_create(update_conflicts=True)), sorted by key so concurrent batches lock rows in the same
  order and never deadlock or duplicate.
- One audit entry per batch that changed something, with the counts (R-SEC-05).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from openpyxl.utils import get_column_letter

from mchis.accounts.permissions import require
from mchis.core.audit import log_event
from mchis.core.errors import Conflict, DomainError, PermissionDeniedError, ValidationFailed
from mchis.core.jobs import enqueue
from mchis.core.principal import PrincipalRef, person_or_none, principal_ref
from mchis.core.scoping import access, common_path, scope_path_of, within
from mchis.core.text import fold
from mchis.outbox.services import OutboxItem, outbox_enqueue

from . import catalogs, excel, legacy
from .definitions import NEWBORN_FIELDS, RegisterDef, get_register
from .models import (
    BatchChannel,
    BatchStatus,
    IngestBatch,
    Newborn,
    PendingUpload,
    PeriodLock,
    Person,
    SyncActivity,
    UploadStatus,
)
from .validation import Context, FacilityRef, Outcome, row_hash, validate_record

MAX_BATCH = 5000
WRITE_CHUNK = 1000


# --- period locks -------------------------------------------------------------------------------------------


def lock_message(unit_name: str, month: date) -> str:
    return (
        f"Kỳ báo cáo {month:%m/%Y} của {unit_name} đã được duyệt và khóa: không thể thêm, sửa số liệu sổ. "
        "Đề nghị cấp trên hủy duyệt báo cáo trước khi sửa."
    )


@transaction.atomic
def period_lock(*, actor: Any, unit: Any, month: date, reason: str = "") -> PeriodLock:
    """Lock a unit's register records of one month (called when its report is approved)."""
    month = month.replace(day=1)
    lock, created = PeriodLock.objects.select_for_update().get_or_create(
        unit=unit,
        month=month,
        defaults={
            "locked_at": timezone.now(),
            "locked_by": person_or_none(actor),
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
def period_unlock(*, actor: Any, unit: Any, month: date, reason: str = "") -> bool:
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


def _real_user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) and hasattr(actor, "username") else None


@transaction.atomic
def record_void(*, actor: Any, register: str, record_id: int, reason: str) -> Any:
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
    record.voided_by = _real_user(actor)
    record.void_reason = reason
    record.save(update_fields=["voided_at", "voided_by", "void_reason", "updated_at"])
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
    outbox_enqueue(topic=f"register.{reg.key}", items=[_outbox_item(reg, record, record.facility.path)])
    return record


def _outbox_item(reg: RegisterDef, row: Any, unit_path: str) -> OutboxItem:
    """The outbound-exchange entry of a written row: ordered per person (personal ID, else the row)."""
    key = f"pid:{row.personal_id}" if row.personal_id else f"{reg.key}:{row.pk}"
    return OutboxItem(reg.model.__name__, row.pk, person_key=key, scope_path=unit_path)


# --- the batch engine ---------------------------------------------------------------------------------------


@dataclass
class BatchResult:
    register: str
    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # per record: index, action, id, key
    batch_id: str | None = None

    @property
    def status(self) -> str:
        if self.rejected and not (self.created or self.updated or self.unchanged):
            return "ERROR"
        return "WARNING" if self.rejected else "OK"

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "register": self.register,
            "dryRun": self.dry_run,
            "batchId": self.batch_id,
            "total": self.created + self.updated + self.unchanged + self.rejected,
            "created": self.created,
            "imported": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "ignored": self.rejected,
            "conflicts": self.conflicts,
        }


def check_structure(records: Any) -> list[dict[str, Any]]:
    """Structural errors that refuse the whole batch (see module docstring)."""
    if not isinstance(records, list):
        raise ValidationFailed(
            [{"index": None, "field": "records", "reason": "Phải là một danh sách bản ghi."}],
            "Lô dữ liệu không hợp lệ.",
        )
    if len(records) > MAX_BATCH:
        raise ValidationFailed(
            [
                {
                    "index": None,
                    "field": "records",
                    "reason": f"Tối đa {MAX_BATCH} bản ghi mỗi lô (gửi {len(records)}).",
                }
            ],
            "Lô dữ liệu quá lớn.",
        )
    errors = [
        {"index": i, "field": "", "reason": "Bản ghi phải là một đối tượng JSON."}
        for i, r in enumerate(records)
        if not isinstance(r, dict)
    ]
    if errors:
        raise ValidationFailed(errors, "Lô dữ liệu không hợp lệ: có phần tử không phải bản ghi.")  # type: ignore[arg-type]
    return records


def _key(rec: dict[str, Any], channel: str) -> tuple[str, str, str] | None:
    rid = rec.get("source_record_id")
    if rid in (None, ""):
        return None
    return (str(rec.get("facility") or ""), str(rec.get("source_system") or channel), str(rid).strip())


def _check_duplicates(records: list[dict[str, Any]], channel: str) -> None:
    seen: dict[tuple[str, str, str], int] = {}
    errors = []
    for index, rec in enumerate(records):
        key = _key(rec, channel)
        if key is None:
            continue
        if key in seen:
            errors.append(
                {
                    "index": index,
                    "field": "source_record_id",
                    "reason": f"Trùng mã bản ghi nguồn '{key[2]}' với bản ghi thứ {seen[key]} trong cùng lô.",
                }
            )
        else:
            seen[key] = index
    if errors:
        raise ValidationFailed(errors, "Lô dữ liệu có mã bản ghi nguồn trùng nhau: không ghi gì.")  # type: ignore[arg-type]


def build_context(
    *, principal: Any, reg: RegisterDef, records: list[dict[str, Any]], today: date | None = None
) -> Context:
    """Prefetch once per batch: facilities in the principal's scope, catalog codes and names."""
    from mchis.units.models import ReportingUnit

    codes = {str(r.get("facility")) for r in records if isinstance(r, dict) and r.get("facility")}
    facilities: dict[str, FacilityRef] = {}
    if codes:
        for unit_id, code, path, name in ReportingUnit.objects.filter(
            code__in=codes, active=True
        ).values_list("id", "code", "path", "name"):
            if within(principal, path):
                facilities[code] = FacilityRef(unit_id, code, path, name)
    used = {s.catalog for s in reg.all_fields if s.catalog}
    if reg.newborns:
        used |= {s.catalog for s in NEWBORN_FIELDS if s.catalog}
    day = today or timezone.localdate()
    ctx = Context(today=day, facilities=facilities)
    if "contraceptive-method" in used:
        ctx.contraceptive_aliases = catalogs.contraceptive_aliases(
            catalogs.contraceptive_modern_flags(on=day)
        )
    for cat in used:
        items = catalogs.catalog_items(cat, on=day)
        ctx.catalog_codes[cat] = catalogs.catalog_codes(cat, on=day)
        ctx.catalog_names[cat] = {fold(name): code for code, name in items}
    return ctx


def _existing_rows(model: Any, keys: set[tuple[int, str, str]], *, lock: bool) -> list[dict[str, Any]]:
    """Stored rows with these (facility, source system, record id) keys; locked in key order when writing, so
    concurrent batches on the same records queue instead of racing. PostgreSQL: one join against the unnested
    key arrays, answered from the unique index whatever the table size."""
    names = ["id", "facility_id", "source_system", "source_record_id", "month", "row_hash", "voided_at"]
    if not keys:
        return []
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        sql = (
            f"SELECT {', '.join('t.' + n for n in names)} FROM {table} t "  # noqa: S608 - identifiers from the model
            "JOIN unnest(%s::bigint[], %s::text[], %s::text[]) AS k(f, s, r) "
            "ON t.facility_id = k.f AND t.source_system = k.s AND t.source_record_id = k.r "
            "ORDER BY t.facility_id, t.source_system, t.source_record_id"
            + (" FOR UPDATE OF t" if lock else "")
        )
        ordered = sorted(keys)
        with connection.cursor() as cursor:
            cursor.execute(sql, [[k[0] for k in ordered], [k[1] for k in ordered], [k[2] for k in ordered]])
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    facility_ids = {k[0] for k in keys}
    qs = model.objects.filter(facility_id__in=facility_ids, source_record_id__in={k[2] for k in keys})
    if lock:
        qs = qs.select_for_update().order_by("facility_id", "source_system", "source_record_id")
    return [
        row
        for row in qs.values(*names)
        if (row["facility_id"], row["source_system"], row["source_record_id"]) in keys
    ]


def _common_path(paths: set[str]) -> str:
    return common_path(paths)


def _writable_fields(model: Any) -> list[str]:
    skip = {"id", "facility", "source_system", "source_record_id", "created_at"}
    return [f.name for f in model._meta.concrete_fields if f.name not in skip]


def _principal_key(principal: Any) -> str:
    """Idempotency keys and async jobs belong to one principal, named by its typed identity."""
    ref = principal_ref(principal)
    if ref is not None and ref.kind == "user":
        return f"user:{ref.id}"
    name = getattr(principal, "client_name", None) or "client"
    return f"client:{name}:{ref.id if ref is not None else ''}"


def records_upsert(
    *,
    actor: Any,
    register: str,
    records: list[dict[str, Any]],
    channel: str = BatchChannel.API,
    dry_run: bool = False,
    batch: IngestBatch | None = None,
    today: date | None = None,
    outcomes: list[Outcome] | None = None,
    audit: bool = True,
    check_duplicates: bool = True,
) -> BatchResult:
    """Validate and upsert a batch into one register. See the module docstring for the policy."""
    require(actor, "register.write")
    reg = get_register(register)
    if check_duplicates:
        check_structure(records)
        _check_duplicates(records, channel)
    if outcomes is None:
        ctx = build_context(principal=actor, reg=reg, records=records, today=today)
        outcomes = [validate_record(reg, raw, ctx, channel=channel) for raw in records]
    result = BatchResult(register=reg.key, dry_run=dry_run)
    if dry_run:
        return _classify_and_write(reg, actor, records, outcomes, result, channel, write=False, batch=None)
    with transaction.atomic():
        return _classify_and_write(
            reg, actor, records, outcomes, result, channel, write=True, batch=batch, audit=audit
        )


def _classify_and_write(
    reg: RegisterDef,
    actor: Any,
    records: list[dict[str, Any]],
    outcomes: list[Outcome],
    result: BatchResult,
    channel: str,
    *,
    write: bool,
    batch: IngestBatch | None,
    audit: bool = True,
) -> BatchResult:
    from mchis.units.models import ReportingUnit

    model = reg.model
    valid = [(i, o) for i, o in enumerate(outcomes) if o.ok]
    for i, o in enumerate(outcomes):
        if not o.ok:
            for err in o.errors:
                result.conflicts.append({"index": i, "field": err["field"], "reason": err["reason"]})
    facility_ids = {o.clean["facility_id"] for _, o in valid}

    keys = {
        (o.clean["facility_id"], o.clean["source_system"], o.clean["source_record_id"])
        for _, o in valid
        if o.clean["source_record_id"]
    }
    existing: dict[tuple[int, str, str], dict[str, Any]] = {
        (row["facility_id"], row["source_system"], row["source_record_id"]): row
        for row in _existing_rows(model, keys, lock=write)
    }

    months = {o.clean["month"] for _, o in valid} | {row["month"] for row in existing.values()}
    locked: set[tuple[int, date]] = set()
    if facility_ids:
        locked = set(
            PeriodLock.objects.filter(unit_id__in=facility_ids, month__in=months).values_list(
                "unit_id", "month"
            )
        )
    units = {
        uid: (name, path)
        for uid, name, path in ReportingUnit.objects.filter(id__in=facility_ids).values_list(
            "id", "name", "path"
        )
    }
    names = {uid: v[0] for uid, v in units.items()}

    to_write: list[tuple[int, Outcome, str]] = []
    for index, outcome in valid:
        clean = outcome.clean
        if not clean["source_record_id"]:
            clean["source_record_id"] = uuid.uuid4().hex
        if not clean.get("row_hash"):  # an Excel confirmation reuses the preview's fingerprint
            clean["row_hash"] = row_hash(clean, outcome.newborns)
        key = (clean["facility_id"], clean["source_system"], clean["source_record_id"])
        old = existing.get(key)
        touched = {(clean["facility_id"], clean["month"])}
        if old:
            touched.add((clean["facility_id"], old["month"]))
        hit = next((t for t in touched if t in locked), None)
        if old and old["voided_at"] is not None:
            reason = "Bản ghi này đã bị hủy: không cập nhật được (gửi bản ghi mới với mã bản ghi nguồn khác)."
            result.conflicts.append({"index": index, "field": "source_record_id", "reason": reason})
            outcome.errors.append({"field": "source_record_id", "reason": reason})
            continue
        if old and old["row_hash"] == clean["row_hash"]:
            result.unchanged += 1
            result.rows.append({"index": index, "action": "unchanged", "id": old["id"], "key": key[2]})
            continue
        if hit is not None:
            result.conflicts.append(
                {"index": index, "field": "event_date", "reason": lock_message(names.get(hit[0], ""), hit[1])}
            )
            outcome.errors.append(
                {"field": "event_date", "reason": lock_message(names.get(hit[0], ""), hit[1])}
            )
            continue
        action = "update" if old else "create"
        to_write.append((index, outcome, action))
    result.rejected = sum(1 for o in outcomes if not o.ok)
    result.created = sum(1 for *_, action in to_write if action == "create")
    result.updated = len(to_write) - result.created
    if not write:
        for index, outcome, action in to_write:
            result.rows.append(
                {"index": index, "action": action, "id": None, "key": outcome.clean["source_record_id"]}
            )
        result.rows.sort(key=lambda r: r["index"])
        return result

    to_write.sort(
        key=lambda t: (t[1].clean["facility_id"], t[1].clean["source_system"], t[1].clean["source_record_id"])
    )
    _link_persons([o.clean for _, o, _ in to_write])
    fields = _writable_fields(model)
    accepted = {getattr(model._meta.get_field(f), "attname", f) for f in fields} | {
        "facility_id",
        "source_system",
        "source_record_id",
    }
    if connection.vendor == "postgresql":
        # Plain attribute rows instead of model instances: Model.__init__ is the slowest part of a batch.
        defaults = _model_defaults(model)
        objs: list[Any] = [
            SimpleNamespace(**{**defaults, **{k: v for k, v in o.clean.items() if k in accepted}}, pk=None)
            for _, o, _ in to_write
        ]
        _pg_upsert(model, objs)
    else:
        objs = [model(**{k: v for k, v in o.clean.items() if k in accepted}) for _, o, _ in to_write]
        chunk = max(1, min(WRITE_CHUNK, 30_000 // (len(fields) + 3)))
        for start in range(0, len(objs), chunk):
            model.objects.bulk_create(
                objs[start : start + chunk],
                update_conflicts=True,
                unique_fields=["facility", "source_system", "source_record_id"],
                update_fields=fields,
            )
    if any(obj.pk is None for obj in objs):  # backends that do not return ids on upsert
        by_key = {(o.facility_id, o.source_system, o.source_record_id): o for o in objs}
        for pk, fid, src, rid in model.objects.filter(
            facility_id__in=facility_ids, source_record_id__in=[o.source_record_id for o in objs]
        ).values_list("id", "facility_id", "source_system", "source_record_id"):
            if (fid, src, rid) in by_key:
                by_key[(fid, src, rid)].pk = pk
    if reg.newborns:
        _write_newborns(objs, [o for _, o, _ in to_write])
    for (index, outcome, action), obj in zip(to_write, objs, strict=True):
        result.rows.append(
            {"index": index, "action": action, "id": obj.pk, "key": outcome.clean["source_record_id"]}
        )
    result.rows.sort(key=lambda r: r["index"])
    outbox_enqueue(
        topic=f"register.{reg.key}", items=[_outbox_item(reg, obj, units[obj.facility_id][1]) for obj in objs]
    )

    paths = {units[fid][1] for fid in facility_ids if fid in units}
    if batch is None:
        batch = IngestBatch(
            register=reg.key,
            channel=channel,
            actor=person_or_none(actor),
            principal_key=_principal_key(actor),
            principal_unit_path=scope_path_of(actor) or "",
        )
    batch.record_count = len(records)
    batch.created, batch.updated, batch.unchanged, batch.rejected = (
        result.created,
        result.updated,
        result.unchanged,
        result.rejected,
    )
    batch.status = {"OK": BatchStatus.SUCCESS, "WARNING": BatchStatus.WARNING, "ERROR": BatchStatus.ERROR}[
        result.status
    ]
    batch.finished_at = timezone.now()
    batch.payload = None
    batch.save()
    result.batch_id = str(batch.pk)
    _record_activity(batch, records, outcomes, result, channel)
    if audit and (result.created or result.updated):
        changes: dict[str, Any] = {
            "register": [None, reg.key],
            "created": [0, result.created],
            "updated": [0, result.updated],
            "unchanged": [0, result.unchanged],
            "rejected": [0, result.rejected],
        }
        if len(to_write) == 1:
            changes["record_id"] = [None, objs[0].pk]
        log_event(
            actor=actor,
            action=f"register.{channel}_batch",
            object_type="IngestBatch",
            object_id=str(batch.pk),
            scope_path=_common_path(paths) if paths else (scope_path_of(actor) or ""),
            changes=changes,
        )
    return result


def _link_persons(cleans: list[dict[str, Any]]) -> None:
    """Attach (creating when new) the Person of every record that carries a personal ID."""
    pids = {c["personal_id"] for c in cleans if c.get("personal_id")}
    if not pids:
        for c in cleans:
            c["person_id"] = None
        return
    known = dict(Person.objects.filter(personal_id__in=pids).values_list("personal_id", "id"))
    missing = [
        Person(
            personal_id=c["personal_id"],
            full_name=c.get("full_name", ""),
            full_name_folded=c.get("full_name_folded", ""),
            dob=c.get("dob"),
            sex=c.get("sex") or "U",
            ethnicity_code=c.get("ethnicity_code", ""),
        )
        for c in {
            c["personal_id"]: c for c in cleans if c.get("personal_id") and c["personal_id"] not in known
        }.values()
    ]
    if missing:
        Person.objects.bulk_create(missing, ignore_conflicts=True)
        known = dict(Person.objects.filter(personal_id__in=pids).values_list("personal_id", "id"))
    for c in cleans:
        c["person_id"] = known.get(c.get("personal_id") or "")


def _write_newborns(deliveries: list[Any], outcomes: list[Outcome]) -> None:
    ids = [d.pk for d in deliveries]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM registers_newborn WHERE delivery_id = ANY(%s)", [ids])
    else:
        Newborn.objects.filter(delivery_id__in=ids).delete()
    nb_cleans = [nb for o in outcomes for nb in o.newborns]
    _link_persons(nb_cleans)
    pairs = [(d, nb) for d, outcome in zip(deliveries, outcomes, strict=True) for nb in outcome.newborns]

    def common(d: Any) -> dict[str, Any]:
        return {"delivery_id": d.pk, "facility_id": d.facility_id, "month": d.month, "event_date": d.event_date,
                "place": d.place}  # fmt: skip

    if connection.vendor == "postgresql":
        defaults = _model_defaults(Newborn)
        _pg_copy(Newborn, [SimpleNamespace(**{**defaults, **common(d), **nb}) for d, nb in pairs])
    else:
        Newborn.objects.bulk_create([Newborn(**common(d), **nb) for d, nb in pairs], batch_size=WRITE_CHUNK)


_KEY_COLUMNS = ("facility_id", "source_system", "source_record_id")


def _columns(model: Any) -> list[str]:
    return [f.column for f in model._meta.concrete_fields if f.column != "id"]


def _values(obj: Any, model: Any, columns: list[str], now: Any) -> list[Any]:
    out = []
    for f in model._meta.concrete_fields:
        if f.column == "id":
            continue
        if f.column in ("created_at", "updated_at"):
            out.append(now)
        else:
            out.append(getattr(obj, f.attname))
    return out


@lru_cache(maxsize=32)
def _model_defaults(model: Any) -> dict[str, Any]:
    return {f.attname: f.get_default() for f in model._meta.concrete_fields if f.attname != "id"}


def _pg_copy(model: Any, objs: list[Any]) -> None:
    """Plain insert through COPY (newborn rows, whose delivery rows are locked by the caller)."""
    if not objs:
        return
    columns = _columns(model)
    now = timezone.now()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        table = model._meta.db_table
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row(_values(obj, model, columns, now))


def _pg_upsert(model: Any, objs: list[Any]) -> None:
    """PostgreSQL fast path: COPY into a session temp table, then one INSERT … ON CONFLICT DO UPDATE in key
    order (row locks taken in the same order by every batch: no deadlocks); sets obj.pk from RETURNING."""
    if not objs:
        return
    columns = _columns(model)
    table = model._meta.db_table
    digest = hashlib.sha1(",".join(columns).encode(), usedforsecurity=False).hexdigest()[:8]
    temp = f"tmp_{table}_{digest}"
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in _KEY_COLUMNS and c != "created_at")
    col_list = ", ".join(columns)
    now = timezone.now()
    with connection.cursor() as cursor:
        create = (
            f"CREATE TEMP TABLE IF NOT EXISTS {temp} ON COMMIT DELETE ROWS AS SELECT {col_list} FROM {table} "  # noqa: S608
        )
        cursor.execute(create + "WITH NO DATA")  # identifiers from the model
        cursor.execute(f"TRUNCATE {temp}")
        raw = cursor.cursor
        with raw.copy(f"COPY {temp} ({col_list}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row(_values(obj, model, columns, now))
        cursor.execute(  # identifiers come from the model, values travel through COPY
            f"INSERT INTO {table} ({col_list}) SELECT {col_list} FROM {temp} "  # noqa: S608
            f"ORDER BY facility_id, source_system, source_record_id "
            f"ON CONFLICT (facility_id, source_system, source_record_id) DO UPDATE SET {updates} "
            f"RETURNING id, facility_id, source_system, source_record_id"
        )
        ids = {(fid, src, rid): pk for pk, fid, src, rid in cursor.fetchall()}
    for obj in objs:
        obj.pk = ids.get((obj.facility_id, obj.source_system, obj.source_record_id))


def _record_activity(
    batch: IngestBatch,
    records: list[dict[str, Any]],
    outcomes: list[Outcome],
    result: BatchResult,
    channel: str,
) -> None:
    """SyncActivity rows per facility × source system (R-INT-03)."""
    by_index = {row["index"]: row["action"] for row in result.rows}
    groups: dict[tuple[int, str], dict[str, int]] = {}
    for index, outcome in enumerate(outcomes):
        fid = outcome.clean.get("facility_id")
        if not fid:
            continue
        src = outcome.clean.get("source_system") or channel
        counts = groups.setdefault(
            (fid, src), {"records": 0, "create": 0, "update": 0, "unchanged": 0, "rejected": 0}
        )
        counts["records"] += 1
        action = by_index.get(index)
        if action is None or not outcome.ok:
            counts["rejected"] += 1
        else:
            counts[action] += 1
    now = timezone.now()
    SyncActivity.objects.bulk_create(
        [
            SyncActivity(
                batch=batch,
                facility_id=fid,
                source_system=src,
                register=batch.register,
                at=now,
                succeeded=(c["create"] + c["update"] + c["unchanged"]) > 0,
                records=c["records"],
                created=c["create"],
                updated=c["update"],
                unchanged=c["unchanged"],
                rejected=c["rejected"],
            )
            for (fid, src), c in groups.items()
        ]
    )


# --- single records (web form) -------------------------------------------------------------------------------


def record_save(
    *, actor: Any, register: str, data: dict[str, Any], instance: Any | None = None
) -> tuple[Any, list[dict[str, str]]]:
    """Create or edit one record from the web form. Returns (saved record or None, errors)."""
    reg = get_register(register)
    raw = dict(data)
    if instance is not None:
        raw["source_system"] = instance.source_system
        raw["source_record_id"] = instance.source_record_id
        raw["facility"] = instance.facility.code
    else:
        raw.setdefault("source_system", "web")
    ctx = build_context(principal=actor, reg=reg, records=[raw])
    outcome = validate_record(reg, raw, ctx, channel=BatchChannel.WEB)
    if not outcome.ok:
        return None, outcome.errors
    try:
        result = records_upsert(
            actor=actor, register=register, records=[raw], channel=BatchChannel.WEB, outcomes=[outcome]
        )
    except IntegrityError as exc:  # pragma: no cover - a concurrent insert with the same key
        raise Conflict("Bản ghi vừa được người khác lưu; tải lại trang.") from exc
    if result.conflicts:
        return None, [{"field": c["field"], "reason": c["reason"]} for c in result.conflicts]
    row = result.rows[0]
    return reg.model.objects.get(pk=row["id"]), []


# --- API batches: idempotency and async jobs -------------------------------------------------------------------


def request_fingerprint(register: str, body: bytes, dry_run: bool, run_async: bool) -> str:
    digest = hashlib.sha256()
    digest.update(f"{register}|{int(dry_run)}|{int(run_async)}|".encode())
    try:  # the same JSON with other whitespace is the same request
        digest.update(json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode())
    except ValueError:
        digest.update(body)
    return digest.hexdigest()


def batch_ingest(
    *,
    actor: Any,
    register: str,
    records: Any,
    dry_run: bool = False,
    run_async: bool = False,
    idempotency_key: str = "",
    request_hash: str = "",
) -> tuple[int, dict[str, Any]]:
    """The bulk API entry: (HTTP status, body). Replays with the same Idempotency-Key return the stored answer."""
    require(actor, "register.write")
    reg = get_register(register)
    key = (idempotency_key or "").strip()[:200]
    principal_key = _principal_key(actor)
    if key:
        previous = IngestBatch.objects.filter(principal_key=principal_key, idempotency_key=key).first()
        if previous is not None:
            return _replay(previous, request_hash)
    check_structure(records)
    _check_duplicates(records, BatchChannel.API)
    if dry_run:
        result = records_upsert(actor=actor, register=reg.key, records=records, dry_run=True)
        return 200, result.summary()
    batch = IngestBatch(
        register=reg.key,
        channel=BatchChannel.API,
        actor=person_or_none(actor),
        principal_key=principal_key,
        principal_unit_path=scope_path_of(actor) or "",
        idempotency_key=key,
        request_hash=request_hash,
        record_count=len(records),
    )
    if run_async:
        batch.status = BatchStatus.QUEUED
        batch.is_async = True
        batch.payload = records
        try:
            with transaction.atomic():
                batch.save(force_insert=True)
        except IntegrityError:
            previous = IngestBatch.objects.get(principal_key=principal_key, idempotency_key=key)
            return _replay(previous, request_hash)
        transaction.on_commit(lambda: enqueue("registers.run_ingest_batch", str(batch.pk)))
        body = job_status(batch)
        return 202, body
    try:
        with transaction.atomic():
            batch.status = BatchStatus.RUNNING
            batch.save(force_insert=True)
            result = records_upsert(actor=actor, register=reg.key, records=records, batch=batch)
            body = result.summary()
            batch.response = body
            batch.save(update_fields=["response"])
    except IntegrityError:
        if not key:
            raise
        previous = IngestBatch.objects.get(principal_key=principal_key, idempotency_key=key)
        return _replay(previous, request_hash)
    return 200, body


def _replay(previous: IngestBatch, request_hash: str) -> tuple[int, dict[str, Any]]:
    if previous.request_hash != request_hash:
        raise Conflict(
            "Idempotency-Key đã được dùng cho một lô khác (nội dung khác nhau). Dùng khóa mới cho lô mới.",
            code="idempotency_conflict",
        )
    if previous.response is not None and previous.status not in (BatchStatus.QUEUED, BatchStatus.RUNNING):
        if (
            previous.channel == BatchChannel.API
            and previous.payload is None
            and "jobId" not in previous.response
        ):
            return 200, previous.response
        return 200, job_status(previous)
    return 202, job_status(previous)


def job_status(batch: IngestBatch) -> dict[str, Any]:
    return {
        "jobId": str(batch.pk),
        "status": batch.status,
        "register": batch.register,
        "receivedAt": batch.received_at.isoformat() if batch.received_at else None,
        "finishedAt": batch.finished_at.isoformat() if batch.finished_at else None,
        "summary": batch.response if batch.status not in (BatchStatus.QUEUED, BatchStatus.RUNNING) else None,
    }


class StoredPrincipal:
    """The principal of an async job, rebuilt in the worker (machine clients have no DB row we own)."""

    is_authenticated = True
    is_active = True

    def __init__(
        self, *, unit: Any, scopes: set[str], client_name: str, client_id: int | None = None
    ) -> None:
        self.unit = unit
        self.scopes = scopes
        self.client_name = client_name
        self.client_id = client_id

    @property
    def ref(self) -> PrincipalRef | None:
        return PrincipalRef.token(self.client_id) if self.client_id is not None else None


def _client_principal(batch: IngestBatch, unit: Any) -> Any:
    """The machine client that sent an async batch, with its current scopes (a revoked token keeps none)."""
    parts = batch.principal_key.split(":")
    try:
        from mchis.accounts.auth import principal_for
        from mchis.accounts.models import ApiClient

        client = ApiClient.objects.filter(pk=int(parts[2])).select_related("unit").first()
        if client is not None:
            principal = principal_for(client)
            if client.revoked_at is not None:
                return StoredPrincipal(
                    unit=client.unit, scopes=set(), client_name=client.name, client_id=client.pk
                )
            return principal
    except (ImportError, IndexError, ValueError):
        pass
    return StoredPrincipal(
        unit=unit, scopes={"register.write"}, client_name=parts[1] if len(parts) > 1 else ""
    )


def batch_run_async(*, batch_id: str) -> None:
    """Worker side of ?async=true: run the stored payload once.

    The claim and the work share one transaction, so the batch is never committed as "running" before its rows:
    a worker that dies mid-batch rolls everything back, the batch is still queued, and the redelivered task
    (acks_late) runs it again. A second delivery of a batch being run waits on the row lock, then finds it done.
    A "running" batch left by older code (claim committed before the work) is claimed again the same way.
    """
    from mchis.accounts.models import User
    from mchis.units.models import ReportingUnit

    with transaction.atomic():
        batch = (
            IngestBatch.objects.select_for_update()
            .filter(pk=batch_id, is_async=True, status__in=(BatchStatus.QUEUED, BatchStatus.RUNNING))
            .first()
        )
        if batch is None:
            return  # finished already (or unknown): a redelivery changes nothing
        batch.status = BatchStatus.RUNNING
        actor: Any
        if batch.actor_id:
            actor = User.objects.get(pk=batch.actor_id)
        else:
            unit = ReportingUnit.objects.filter(path=batch.principal_unit_path).first()
            actor = _client_principal(batch, unit)
        records = batch.payload or []
        try:
            result = records_upsert(actor=actor, register=batch.register, records=records, batch=batch)
            body = result.summary()
        except DomainError as exc:
            body = {"status": "ERROR", **exc.as_dict()}
            batch.status = BatchStatus.ERROR
            batch.rejected = len(records)
            batch.finished_at = timezone.now()
        batch.response = body
        batch.payload = None
        batch.save()


# --- Excel uploads: preview (dry run) → confirm ----------------------------------------------------------------

EXCEL_CHUNK = 5000
PREVIEW_SAMPLE = 200


def _upload_dir() -> Path:
    from django.conf import settings

    path = Path(settings.MEDIA_ROOT) / "registers" / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _excel_chunks(
    *, actor: Any, reg: RegisterDef, path: Path, default_facility: str
) -> Iterator[tuple[Any, list[Any], list[dict[str, Any]], list[Outcome]]]:
    """Stream the file in chunks: (reader, rows, raws, outcomes). Duplicate record keys become row errors."""
    reader = excel.open_rows(path, reg)
    seen: dict[tuple[str, str], int] = {}
    rows: list[Any] = []
    encoding: list[str] = []  # detected once, from the first chunk: one file, one keyboard

    def flush() -> tuple[Any, list[Any], list[dict[str, Any]], list[Outcome]]:
        raws = [r.raw for r in rows]
        if not encoding:
            texts = [v for raw in raws for v in raw.values() if isinstance(v, str)]
            encoding.append(legacy.detect_encoding(texts))
        ctx = build_context(principal=actor, reg=reg, records=raws)
        ctx.text_encoding = encoding[0]
        outcomes = [validate_record(reg, raw, ctx, channel=BatchChannel.EXCEL) for raw in raws]
        for row, outcome in zip(rows, outcomes, strict=True):
            if getattr(row, "duplicate_of", None):
                outcome.errors.append(
                    {
                        "field": "source_record_id",
                        "reason": f"Trùng bản ghi với dòng {row.duplicate_of} trong cùng tệp.",
                    }
                )
        return reader, list(rows), raws, outcomes

    for row in reader.rows:
        raw = row.raw
        if not raw.get("facility"):
            raw["facility"] = default_facility
        raw["source_system"] = BatchChannel.EXCEL
        rid = str(raw.get("source_record_id") or "").strip()
        if not rid:
            rid = excel.natural_key(raw, reg.key)
        raw["source_record_id"] = rid
        key = (str(raw["facility"]), rid)
        if key in seen:
            row.duplicate_of = seen[key]  # type: ignore[attr-defined]
        else:
            seen[key] = row.number
        rows.append(row)
        if len(rows) >= EXCEL_CHUNK:
            yield flush()
            rows = []
    if rows:
        yield flush()


def _letters(reader: Any) -> dict[str, str]:
    return {col.key: get_column_letter(i + 1) for i, col in enumerate(reader.columns) if col is not None}


def _row_errors(letters: dict[str, str], outcome: Outcome) -> list[dict[str, str]]:
    return [
        {"column": letters.get(err["field"], ""), "field": err["field"], "reason": err["reason"]}
        for err in outcome.errors
    ]


def _file_mac(path: Path) -> str:
    return salted_hmac("registers.upload-outcomes", _sha256_file(path)).hexdigest()


def _commit_chunks(
    actor: Any, reg: RegisterDef, upload: PendingUpload, path: Path
) -> Iterator[tuple[Any, ...]]:
    """The preview's validated chunks when their signed file is intact, else the workbook parsed again.
    Locks and stored records are always re-checked at write time by the engine."""
    kept = path.with_suffix(".outcomes.pkl")
    mac = upload.summary.get("outcomes_mac")
    if mac and kept.exists() and constant_time_compare(_file_mac(kept), mac):
        with kept.open("rb") as fh:
            while True:
                try:
                    chunk = pickle.load(fh)  # noqa: S301 - our own file, HMAC-verified above
                except EOFError:
                    return
                yield (chunk["headers"], chunk["letters"], chunk["numbers"], chunk["values"], chunk["raws"],
                       chunk["outcomes"])  # fmt: skip
    for reader, rows, raws, outcomes in _excel_chunks(
        actor=actor, reg=reg, path=path, default_facility=upload.unit.code
    ):
        yield (
            reader.headers,
            _letters(reader),
            [r.number for r in rows],
            [r.values for r in rows],
            raws,
            outcomes,
        )


def upload_preview(
    *, actor: Any, register: str, unit: Any, filename: str, chunks: Iterable[bytes]
) -> PendingUpload:
    """Store the file under MEDIA_ROOT, dry-run every row, keep the per-row outcomes (nothing written yet)."""
    require(actor, "register.write")
    reg = get_register(register)
    if not within(actor, unit.path):
        raise PermissionDeniedError("Đơn vị nằm ngoài phạm vi quản lý của bạn.", field="unit")
    upload_id = uuid.uuid4()
    path = _upload_dir() / f"{upload_id}.xlsx"
    preview_path = path.with_suffix(".preview.jsonl")
    outcomes_path = path.with_suffix(".outcomes.pkl")
    try:
        digest, size = hashlib.sha256(), 0
        with path.open("wb") as fh:
            for block in chunks:
                size += len(block)
                if size > excel.MAX_FILE_BYTES:
                    raise excel.BadFile(f"Tệp quá lớn; tối đa {excel.MAX_FILE_BYTES // 1_048_576} MB.")
                digest.update(block)
                fh.write(block)
        counts = {"create": 0, "update": 0, "unchanged": 0, "error": 0}
        sample: list[dict[str, Any]] = []
        with preview_path.open("w", encoding="utf-8") as out, outcomes_path.open("wb") as kept:
            for reader, rows, raws, outcomes in _excel_chunks(
                actor=actor, reg=reg, path=path, default_facility=unit.code
            ):
                letters = _letters(reader)
                # The validated rows are kept for the confirmation (signed below), so it need not re-parse.
                pickle.dump(
                    {"headers": reader.headers, "letters": _letters(reader), "numbers": [r.number for r in rows],
                     "values": [r.values for r in rows], "raws": raws, "outcomes": outcomes},
                    kept, protocol=pickle.HIGHEST_PROTOCOL,
                )  # fmt: skip
                result = records_upsert(
                    actor=actor, register=reg.key, records=raws, channel=BatchChannel.EXCEL, dry_run=True,
                    outcomes=outcomes, check_duplicates=False,
                )  # fmt: skip
                actions = {r["index"]: r["action"] for r in result.rows}
                for index, (row, outcome) in enumerate(zip(rows, outcomes, strict=True)):
                    action = actions.get(index, "error") if outcome.ok else "error"
                    entry: dict[str, Any] = {"row": row.number, "action": action}
                    if action == "error":
                        entry["errors"] = _row_errors(letters, outcome)
                    entry["name"] = outcome.clean.get("full_name", "")
                    entry["date"] = (
                        outcome.clean["event_date"].isoformat() if outcome.clean.get("event_date") else ""
                    )
                    counts[action] += 1
                    out.write(json.dumps(entry, ensure_ascii=False) + "\n")
                    if len(sample) < PREVIEW_SAMPLE and (
                        action == "error" or len(sample) < PREVIEW_SAMPLE // 2
                    ):
                        sample.append(entry)
        with transaction.atomic():
            upload = PendingUpload.objects.create(
                id=upload_id,
                register=reg.key,
                unit=unit,
                uploaded_by=actor,
                original_name=filename[:255],
                file_path=str(path),
                checksum=digest.hexdigest(),
                size=size,
                preview_path=str(preview_path),
                summary={
                    "counts": counts,
                    "rows": sum(counts.values()),
                    "sample": sample,
                    "outcomes_mac": _file_mac(outcomes_path),
                },
            )
            log_event(
                actor=actor,
                action="register.excel_preview",
                object_type="PendingUpload",
                object_id=str(upload.pk),
                scope_path=unit.path,
                changes={
                    "file": [None, filename],
                    "rows": [None, sum(counts.values())],
                    "checksum": [None, upload.checksum],
                },
            )
    except BaseException:
        # Nothing of a failed preview stays on disk (issue 10 item 10): the file, its preview, its outcomes.
        for leftover in (path, preview_path, outcomes_path):
            leftover.unlink(missing_ok=True)
        raise
    return upload


def upload_commit(*, actor: Any, upload: PendingUpload) -> PendingUpload:
    """Write every valid row in one transaction; rejected rows go to a downloadable error workbook."""
    require(actor, "register.write")
    reg = get_register(upload.register)
    path = Path(upload.file_path)
    with transaction.atomic():
        locked = PendingUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.status != UploadStatus.PREVIEWED:
            raise Conflict("Tệp này đã được ghi hoặc đã hủy.", code="upload_done")
        if not path.exists() or _sha256_file(path) != locked.checksum:
            raise Conflict("Tệp tải lên đã thay đổi hoặc không còn trên máy chủ: hãy tải lên lại.")
        batch = IngestBatch.objects.create(
            register=reg.key,
            channel=BatchChannel.EXCEL,
            actor=person_or_none(actor),
            principal_key=_principal_key(actor),
            principal_unit_path=scope_path_of(actor) or "",
            status=BatchStatus.RUNNING,
        )
        totals = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0, "records": 0}
        error_path = path.with_suffix(".errors.xlsx")
        wb = ws = None
        for headers, letters, numbers, values, raws, outcomes in _commit_chunks(actor, reg, locked, path):
            result = records_upsert(
                actor=actor, register=reg.key, records=raws, channel=BatchChannel.EXCEL, outcomes=outcomes,
                batch=batch, audit=False, check_duplicates=False,
            )  # fmt: skip
            totals["records"] += len(raws)
            for name in ("created", "updated", "unchanged", "rejected"):
                totals[name] += getattr(result, name)
            rejected = {c["index"] for c in result.conflicts}
            for index in sorted(rejected):
                if wb is None:
                    wb, ws = excel.error_workbook_writer(headers)
                outcome = outcomes[index]
                reasons = "; ".join(
                    (f"Cột {e['column']}: " if e["column"] else "") + e["reason"]
                    for e in _row_errors(letters, outcome)
                )
                assert ws is not None
                ws.append([*values[index], numbers[index], reasons])  # the workbook neutralises formulas
        if wb is not None:
            wb.save(error_path)
        batch.record_count = totals["records"]
        batch.created, batch.updated = totals["created"], totals["updated"]
        batch.unchanged, batch.rejected = totals["unchanged"], totals["rejected"]
        ok = totals["created"] + totals["updated"] + totals["unchanged"]
        batch.status = (
            BatchStatus.SUCCESS
            if not totals["rejected"]
            else (BatchStatus.WARNING if ok else BatchStatus.ERROR)
        )
        batch.finished_at = timezone.now()
        summary = {
            "status": {"success": "OK", "warning": "WARNING", "error": "ERROR"}[batch.status],
            "total": totals["records"],
            "created": totals["created"],
            "updated": totals["updated"],
            "unchanged": totals["unchanged"],
            "rejected": totals["rejected"],
        }
        batch.response = summary
        batch.save()
        locked.status = UploadStatus.COMMITTED
        locked.committed_at = timezone.now()
        locked.batch = batch
        locked.error_file_path = str(error_path) if wb is not None else ""
        locked.summary = {**locked.summary, "result": summary}
        locked.save()
        log_event(
            actor=actor,
            action="register.excel_batch",
            object_type="IngestBatch",
            object_id=str(batch.pk),
            scope_path=locked.unit.path,
            changes={
                "register": [None, reg.key],
                "file": [None, locked.original_name],
                "checksum": [None, locked.checksum],
                **{k: [0, v] for k, v in totals.items()},
            },
        )
    return locked


@transaction.atomic
def upload_discard(*, actor: Any, upload: PendingUpload) -> None:
    require(actor, "register.write")
    locked = PendingUpload.objects.select_for_update().get(pk=upload.pk)
    if locked.status != UploadStatus.PREVIEWED:
        raise Conflict("Tệp này đã được ghi hoặc đã hủy.", code="upload_done")
    locked.status = UploadStatus.DISCARDED
    locked.save(update_fields=["status"])
    for name in (
        locked.file_path,
        locked.preview_path,
        str(Path(locked.file_path).with_suffix(".outcomes.pkl")),
    ):
        if name:
            Path(name).unlink(missing_ok=True)
    log_event(
        actor=actor,
        action="register.excel_discard",
        object_type="PendingUpload",
        object_id=str(locked.pk),
        scope_path=locked.unit.path,
        changes={"status": [UploadStatus.PREVIEWED, UploadStatus.DISCARDED]},
    )


UPLOAD_PREVIEW_TTL_HOURS = 24  # a preview not confirmed within a day expires; its files are removed


def _upload_files(upload: PendingUpload) -> list[str]:
    return [
        name
        for name in (
            upload.file_path,
            upload.preview_path,
            str(Path(upload.file_path).with_suffix(".outcomes.pkl")) if upload.file_path else "",
        )
        if name
    ]


@transaction.atomic
def uploads_expire(
    *, now: datetime | None = None, ttl_hours: int = UPLOAD_PREVIEW_TTL_HOURS
) -> dict[str, int]:
    """Cleanup job (issue 10 item 10): previews older than `ttl_hours` are discarded and their files removed;
    files in the upload folder that no upload refers to (a crash between writing and recording) are removed
    once as old. Error workbooks of committed uploads stay (they are downloaded later). Idempotent."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=ttl_hours)
    expired = list(
        PendingUpload.objects.select_for_update().filter(status=UploadStatus.PREVIEWED, created_at__lt=cutoff)
    )
    for upload in expired:
        for name in _upload_files(upload):
            Path(name).unlink(missing_ok=True)
    if expired:
        PendingUpload.objects.filter(pk__in=[u.pk for u in expired]).update(status=UploadStatus.DISCARDED)
    known: set[str] = set()
    for upload in PendingUpload.objects.exclude(status=UploadStatus.DISCARDED):
        known.update(_upload_files(upload))
        if upload.error_file_path:
            known.add(upload.error_file_path)
    strays = 0
    for path in _upload_dir().iterdir():
        if path.is_file() and str(path) not in known and path.stat().st_mtime < cutoff.timestamp():
            path.unlink(missing_ok=True)
            strays += 1
    if expired or strays:
        log_event(
            actor=None,
            action="register.excel_expire",
            object_type="PendingUpload",
            object_id="*",
            changes={"expired": [0, len(expired)], "stray_files": [0, strays]},
        )
    return {"expired": len(expired), "stray_files": strays}


# --- newborn → child registry hand-off ---------------------------------------------------------------------


def newborn_handoff(*, actor: Any, newborn: Newborn, reason: str = "") -> Any:
    """Propose a child-registry record for a live-born baby (đề xuất thêm trẻ vào hệ thống quản lý trẻ em).

    Goes through the registry's maker-checker flow (`child_propose_create`, approved by a leader there), keyed by
    the newborn so repeating the hand-off never proposes the child twice."""
    from mchis.registry.services import child_propose_create

    require(actor, "child.propose")
    if newborn.outcome != "live":
        raise DomainError("Chỉ chuyển trẻ đẻ ra sống sang hệ thống quản lý trẻ em.", field="outcome")
    delivery = access(
        type(newborn.delivery).objects.select_related("facility"), actor, pk=newborn.delivery_id
    )
    if newborn.sex not in ("M", "F"):
        raise DomainError("Giới tính trẻ: cần ghi Nam/Nữ trước khi chuyển.", field="sex")
    data = {
        "full_name": newborn.full_name or f"Con của {delivery.full_name}",
        "date_of_birth": delivery.event_date,
        "sex": newborn.sex,
        "ethnicity_code": newborn.ethnicity_code,
        "personal_id": newborn.personal_id,
        "mother_name": delivery.full_name,
        "mother_dob": delivery.dob,
        "mother_personal_id": delivery.personal_id,
    }
    return child_propose_create(
        actor=actor,
        unit=delivery.facility,
        data={k: v for k, v in data.items() if v not in (None, "")},
        reason=reason or "Trẻ sơ sinh từ sổ đẻ",
        event_date=delivery.event_date,
        client_key=f"registers-newborn-{newborn.pk}",
        acknowledge_warnings=True,
        source="registers",
    )
