"""The register batch engine: one path for the web form (a batch of one), the Excel confirmation and the bulk
API (R-MCH-02, R-INT-01).

Batch policy (documented in the API description too):
- A *structurally* malformed batch (not a list, over 5,000 records, an item that is not an object, duplicate
  (facility, source_system, source_record_id) keys inside the batch) is refused whole: nothing is written.
- Otherwise every valid record is written (created / updated / unchanged by fingerprint) and each invalid one is
  listed in `conflicts` with its index, field and reason. Excel confirmation uses the same rule.
- `classify` decides each record's fate from what is stored (no database: tested alone); `write_plan` writes
  the plan (`writer`), records the batch and its sync activity, and audits it - one entry per batch that
  changed something, with the counts (R-SEC-05).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from mchis.accounts.permissions import require
from mchis.accounts.principals import person_of
from mchis.core.audit import log_event
from mchis.core.bulk import BulkTable, uid
from mchis.core.changes import unit_months_changed
from mchis.core.errors import Conflict, ValidationFailed
from mchis.core.principal import Principal, is_machine_client, principal_ref
from mchis.core.scoping import common_path, scope_path_of, within
from mchis.core.text import fold
from mchis.outbox.services import outbox_enqueue
from mchis.places.selectors import commune_codes_2025
from mchis.units.models import ReportingUnit

from . import catalogs, writer
from .definitions import NEWBORN_FIELDS, RegisterDef, get_register
from .locks import lock_message, locked_months, outbox_item
from .models import BatchChannel, BatchStatus, IngestBatch, SyncActivity
from .validation import Context, FacilityRef, Outcome, row_hash, same_fingerprint, validate_record

MAX_BATCH = 5000

Key = tuple[int, str, str]  # (facility id, source system, source record id)


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


def check_keys_unique(records: list[dict[str, Any]], channel: str) -> None:
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
    *, principal: Principal, reg: RegisterDef, records: list[dict[str, Any]], today: date | None = None
) -> Context:
    """Prefetch once per batch: facilities in the principal's scope, catalog codes and names."""
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
    ctx = Context(today=day, facilities=facilities, communes_2025=commune_codes_2025())
    if "contraceptive-method" in used:
        ctx.contraceptive_aliases = catalogs.contraceptive_aliases(
            catalogs.contraceptive_modern_flags(on=day)
        )
    for cat in used:
        items = catalogs.catalog_items(cat, on=day)
        ctx.catalog_codes[cat] = catalogs.catalog_codes(cat, on=day)
        ctx.catalog_names[cat] = {fold(name): code for code, name in items}
    return ctx


def principal_key_of(principal: Principal) -> str:
    """Idempotency keys and async jobs belong to one principal, named by its typed identity."""
    ref = principal_ref(principal)
    if ref is not None and ref.kind == "user":
        return f"user:{ref.id}"
    name = (principal.client_name if is_machine_client(principal) else "") or "client"
    return f"client:{name}:{ref.id if ref is not None else ''}"


def records_upsert(
    *,
    actor: Principal,
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
        check_keys_unique(records, channel)
    if outcomes is None:
        ctx = build_context(principal=actor, reg=reg, records=records, today=today)
        outcomes = [validate_record(reg, raw, ctx, channel=channel) for raw in records]
    result = BatchResult(register=reg.key, dry_run=dry_run)
    if dry_run:
        return _ingest(reg, actor, records, outcomes, result, channel, write=False, batch=None)
    with transaction.atomic():
        return _ingest(reg, actor, records, outcomes, result, channel, write=True, batch=batch, audit=audit)


@dataclass
class Plan:
    """What a batch will do: the rows to write (index, outcome, "create" | "update"); the rest of its fate
    (unchanged, refused) is already in the BatchResult."""

    writes: list[tuple[int, Outcome, str]] = field(default_factory=list)


def classify(
    valid: list[tuple[int, Outcome]],
    existing: dict[Key, dict[str, Any]],
    locked: set[tuple[int, date]],
    unit_names: dict[int, str],
    result: BatchResult,
) -> Plan:
    """Each valid record's fate, from the stored rows with the same keys and the locked facility-months:
    a voided row is never revived, an identical fingerprint is "unchanged", a record touching a locked month
    (its own or the stored row's) is refused, the rest is created or updated. Pure: no database."""
    plan = Plan()
    for index, outcome in valid:
        clean = outcome.clean
        if not clean["source_record_id"]:
            clean["source_record_id"] = uuid.uuid4().hex
        if not clean.get("row_hash"):  # an Excel confirmation reuses the preview's fingerprint
            clean["row_hash"] = row_hash(clean, outcome.newborns)
        key = (clean["facility_id"], clean["source_system"], clean["source_record_id"])
        old = existing.get(key)
        if old and old["voided_at"] is not None:
            reason = "Bản ghi này đã bị hủy: không cập nhật được (gửi bản ghi mới với mã bản ghi nguồn khác)."
            _refuse(result, outcome, index, "source_record_id", reason)
            continue
        if old and same_fingerprint(old["row_hash"], clean, outcome.newborns):
            result.unchanged += 1
            result.rows.append({"index": index, "action": "unchanged", "id": old["id"], "key": key[2]})
            continue
        touched = {(clean["facility_id"], clean["month"])} | (
            {(clean["facility_id"], old["month"])} if old else set()
        )
        hit = next((t for t in touched if t in locked), None)
        if hit is not None:
            _refuse(result, outcome, index, "event_date", lock_message(unit_names.get(hit[0], ""), hit[1]))
            continue
        plan.writes.append((index, outcome, "update" if old else "create"))
    result.created = sum(1 for *_, action in plan.writes if action == "create")
    result.updated = len(plan.writes) - result.created
    return plan


def _refuse(result: BatchResult, outcome: Outcome, index: int, field_name: str, reason: str) -> None:
    result.conflicts.append({"index": index, "field": field_name, "reason": reason})
    outcome.errors.append({"field": field_name, "reason": reason})


def _ingest(
    reg: RegisterDef,
    actor: Principal,
    records: list[dict[str, Any]],
    outcomes: list[Outcome],
    result: BatchResult,
    channel: str,
    *,
    write: bool,
    batch: IngestBatch | None,
    audit: bool = True,
) -> BatchResult:
    """Classify the batch against what is stored (rows locked when writing), then write it or, for a dry run,
    say what would happen."""
    valid = [(i, o) for i, o in enumerate(outcomes) if o.ok]
    for i, o in enumerate(outcomes):
        for err in o.errors:
            result.conflicts.append({"index": i, "field": err["field"], "reason": err["reason"]})
    keys = {
        (o.clean["facility_id"], o.clean["source_system"], o.clean["source_record_id"])
        for _, o in valid
        if o.clean["source_record_id"]
    }
    existing: dict[Key, dict[str, Any]] = {
        (row["facility_id"], row["source_system"], row["source_record_id"]): row
        for row in writer.existing_rows(reg.model, keys, lock=write, extra=reg.period_dates + _residence(reg))
    }
    facility_ids = {o.clean["facility_id"] for _, o in valid}
    months = {o.clean["month"] for _, o in valid} | {row["month"] for row in existing.values()}
    units = {
        uid: (name, path)
        for uid, name, path in ReportingUnit.objects.filter(id__in=facility_ids).values_list(
            "id", "name", "path"
        )
    }
    plan = classify(
        valid, existing, locked_months(facility_ids, months), {u: v[0] for u, v in units.items()}, result
    )
    result.rejected = sum(1 for o in outcomes if not o.ok)
    if not write:
        for index, outcome, action in plan.writes:
            result.rows.append(
                {"index": index, "action": action, "id": None, "key": outcome.clean["source_record_id"]}
            )
        result.rows.sort(key=lambda r: r["index"])
        return result
    objs = write_plan(reg, plan, result)
    unit_months_changed(
        changed_unit_months(plan, existing, reg.period_dates) | residence_unit_months(plan, existing, reg)
    )
    outbox_enqueue(
        topic=f"register.{reg.key}", items=[outbox_item(reg, obj, units[obj.facility_id][1]) for obj in objs]
    )
    paths = {units[fid][1] for fid in facility_ids if fid in units}
    _finish_batch(
        reg,
        actor,
        result,
        batch=batch,
        channel=channel,
        outcomes=outcomes,
        record_count=len(records),
        audit=audit,
        objs=objs,
        paths=paths,
    )
    return result


def changed_unit_months(
    plan: Plan, existing: dict[Key, dict[str, Any]], period_dates: tuple[str, ...] = ()
) -> set[tuple[int, date]]:
    """The (facility, month) pairs a written plan touches: the record's month, the months of its register's
    `period_dates` (a report may count a delivery by its postnatal visits' month), and the stored row's months
    before an update (a record moved to another month leaves the old one). Not every date of the record: a
    mother's date of birth is no reporting period (marking it made ~2 unit-months per record for the worker)."""
    pairs: set[tuple[int, date]] = set()
    for _, outcome, _ in plan.writes:
        clean = outcome.clean
        fid = clean["facility_id"]
        pairs.add((fid, clean["month"]))
        pairs |= {(fid, clean[name]) for name in period_dates if isinstance(clean.get(name), date)}
        old = existing.get((fid, clean["source_system"], clean["source_record_id"]))
        if old:
            pairs |= {
                (fid, old[name]) for name in ("month", *period_dates) if isinstance(old.get(name), date)
            }
    return pairs


RESIDENCE = "residence_commune_code"


def _residence(reg: RegisterDef) -> tuple[str, ...]:
    return (RESIDENCE,) if any(f.name == RESIDENCE for f in reg.model._meta.concrete_fields) else ()


def residence_unit_months(
    plan: Plan, existing: dict[Key, dict[str, Any]], reg: RegisterDef
) -> set[tuple[int, date]]:
    """The (commune station, month) pairs of a record that moved to another month or another residence: the
    station of its old residence for its old month and of its new residence for its new month. A station
    counts its residents' events recorded elsewhere ("CSYT khác", ADR 0047), so its month changes with the
    record; the facility's own months do not reach it once the record has left the old month (the analytics
    store re-read that month at the facility and no longer found the resident there)."""
    if not _residence(reg):
        return set()
    wanted: set[tuple[str, date]] = set()
    for _, outcome, _ in plan.writes:
        clean = outcome.clean
        old = existing.get((clean["facility_id"], clean["source_system"], clean["source_record_id"]))
        if not old:
            continue
        before = (old.get(RESIDENCE) or "", old["month"])
        after = (clean.get(RESIDENCE) or "", clean["month"])
        if before != after:
            wanted |= {pair for pair in (before, after) if pair[0]}
    if not wanted:
        return set()
    stations: dict[str, list[int]] = {}
    for pk, code in ReportingUnit.objects.filter(
        kind="tyt", admin_unit__level="commune", admin_unit__version="2025",
        admin_unit__code__in=sorted({code for code, _ in wanted}),
    ).values_list("pk", "admin_unit__code"):  # fmt: skip
        stations.setdefault(code, []).append(pk)
    return {(pk, month) for code, month in wanted for pk in stations.get(code, ())}


def write_plan(reg: RegisterDef, plan: Plan, result: BatchResult) -> list[Any]:
    """Write the planned rows (and a delivery's newborns) in key order; their ids go into `result.rows`."""
    plan.writes.sort(
        key=lambda t: (t[1].clean["facility_id"], t[1].clean["source_system"], t[1].clean["source_record_id"])
    )
    cleans = [o.clean for _, o, _ in plan.writes]
    writer.link_persons(cleans)
    objs = writer.upsert_rows(reg.model, cleans)
    if reg.newborns:
        writer.write_newborns(objs, [o for _, o, _ in plan.writes])
    for (index, outcome, action), obj in zip(plan.writes, objs, strict=True):
        result.rows.append(
            {"index": index, "action": action, "id": obj.pk, "key": outcome.clean["source_record_id"]}
        )
    result.rows.sort(key=lambda r: r["index"])
    return objs


def _finish_batch(
    reg: RegisterDef,
    actor: Principal,
    result: BatchResult,
    *,
    batch: IngestBatch | None,
    channel: str,
    outcomes: list[Outcome],
    record_count: int,
    audit: bool,
    objs: list[Any],
    paths: set[str],
) -> None:
    """Record the batch (counts, status), its sync activity per facility, and the audit entry."""
    if batch is None:
        batch = IngestBatch(
            register=reg.key,
            channel=channel,
            actor=person_of(actor),
            principal_key=principal_key_of(actor),
            principal_unit_path=scope_path_of(actor) or "",
        )
    batch.record_count = record_count
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
    _record_activity(batch, outcomes, result, channel)
    if audit and (result.created or result.updated):
        changes: dict[str, Any] = {
            "register": [None, reg.key],
            "created": [0, result.created],
            "updated": [0, result.updated],
            "unchanged": [0, result.unchanged],
            "rejected": [0, result.rejected],
        }
        if len(objs) == 1:
            changes["record_id"] = [None, objs[0].pk]
        log_event(
            actor=actor,
            action=f"register.{channel}_batch",
            object_type="IngestBatch",
            object_id=str(batch.pk),
            scope_path=common_path(paths) if paths else (scope_path_of(actor) or ""),
            changes=changes,
        )


def _record_activity(batch: IngestBatch, outcomes: list[Outcome], result: BatchResult, channel: str) -> None:
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
    # one COPY on PostgreSQL: a 1,000-record batch from 200 facilities is 200 rows, and Django's 2,200-parameter
    # INSERT took ~20 µs a record of the request's ~280 (issue 20)
    BulkTable(SyncActivity, _ACTIVITY_COLUMNS, timezone.now(), stamped=["at"]).write(
        (uid(str(batch.pk)), fid, src, batch.register, (c["create"] + c["update"] + c["unchanged"]) > 0, c["records"],
         c["create"], c["update"], c["unchanged"], c["rejected"])
        for (fid, src), c in groups.items()
    )  # fmt: skip


_ACTIVITY_COLUMNS = ("batch_id", "facility_id", "source_system", "register", "succeeded", "records", "created",
                     "updated", "unchanged", "rejected")  # fmt: skip


# --- single records (web form) -------------------------------------------------------------------------------


def record_save(
    *, actor: Principal, register: str, data: dict[str, Any], instance: Any | None = None
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
