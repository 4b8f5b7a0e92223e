"""The thin imperative shell around the pure rules: load children in chunks, run `RULES`, store findings.

* Full scans (`scan_run`) walk children by id in chunks; the `ScanRun.checkpoint` after each committed
  chunk makes an interrupted scan resume where it stopped. Findings are keyed by (rule, child,
  fingerprint) so a re-run only moves `last_seen`; findings that no longer occur become *fixed*.
* `evaluate_child(data)` runs the same rules on a form's data (inline warnings, no writes).
* `on_child_changed(child)` re-checks one child after an approved change (called by the registry).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import fields as dc_fields
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from mchis.catalogs.models import CatalogItem
from mchis.core.scoping import visible_under
from mchis.core.text import fold, nfc
from mchis.places.models import AdminUnit, Level
from mchis.registry.models import Child, CircumstanceMembership
from mchis.units.models import ReportingUnit

from .models import Finding, FindingStatus, RuleError, ScanRun
from .rules import RULES, RULES_BY_CODE, ChildRecord, CircumstanceRecord, RuleContext, RuleFailure, run_rules
from .rules import Finding as RuleFinding

CHUNK = 5000
CHILD_FIELDS = [
    "id", "unit_id", "full_name", "date_of_birth", "sex", "ethnicity_code", "personal_id", "commune_id",
    "village_id", "father_name", "father_dob", "father_personal_id", "mother_name", "mother_dob",
    "mother_personal_id", "guardian_name", "guardian_dob", "guardian_relationship", "status", "updated_at",
]  # fmt: skip
_RECORD_FIELDS = {f.name for f in dc_fields(ChildRecord)}

# --- context ----------------------------------------------------------------------------------------

_context_cache: dict[str, tuple[float, RuleContext]] = {}


def build_context(today: date | None = None) -> RuleContext:

    unit_area: dict[int, tuple[str, int]] = {}
    for uid, level, admin_id in ReportingUnit.objects.values_list("id", "admin_unit__level", "admin_unit_id"):
        if level in (Level.COMMUNE, Level.PROVINCE):
            unit_area[uid] = (level, admin_id)
    commune_province = dict(
        AdminUnit.objects.filter(level=Level.COMMUNE, parent__isnull=False).values_list("id", "parent_id")
    )
    catalogs: dict[str, set[str]] = {}
    orphan: set[str] = set()
    for cat, code, name in CatalogItem.objects.current().values_list("catalog__code", "code", "name_vi"):
        catalogs.setdefault(cat, set()).add(code)
        if cat == "child_circumstance" and "mo coi ca cha va me" in fold(name):
            orphan.add(code)
    dead = {"*": 365} | dict(getattr(settings, "QUALITY_DEAD_AFTER_DAYS", {}))
    return RuleContext(
        today=today or timezone.localdate(),
        unit_area=unit_area,
        commune_province=commune_province,
        catalogs={k: frozenset(v) for k, v in catalogs.items()},
        orphan_both_codes=frozenset(orphan),
        dead_after_days=dead,
    )


def cached_context(max_age: float = 300.0) -> RuleContext:
    hit = _context_cache.get("ctx")
    if hit and time.monotonic() - hit[0] < max_age and hit[1].today == timezone.localdate():
        return hit[1]
    ctx = build_context()
    _context_cache["ctx"] = (time.monotonic(), ctx)
    return ctx


# --- rows -> records ----------------------------------------------------------------------------------


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def record_from_row(row: dict[str, Any], circumstances: Iterable[dict[str, Any]] = ()) -> ChildRecord:
    values: dict[str, Any] = {}
    for name in _RECORD_FIELDS - {"circumstances"}:
        value = row.get(name)
        if name in ("date_of_birth", "father_dob", "mother_dob", "guardian_dob", "updated_at"):
            values[name] = _as_date(value)
        elif name in ("id", "unit_id", "commune_id", "village_id"):
            values[name] = value if isinstance(value, int) else getattr(value, "pk", None)
        else:
            values[name] = nfc(str(value)) if value not in (None, "") else ""
    if not values["status"]:
        values["status"] = "active"
    values["circumstances"] = tuple(
        CircumstanceRecord(
            group_code=str(c.get("group_code") or ""),
            subgroup_code=str(c.get("subgroup_code") or ""),
            start_date=_as_date(c.get("start_date")),
            end_date=_as_date(c.get("end_date")),
        )
        for c in circumstances
    )
    return ChildRecord(**values)


_DATE_FIELDS = ("date_of_birth", "father_dob", "mother_dob", "guardian_dob")


def record_from_db(row: tuple[Any, ...], circumstances: Iterable[dict[str, Any]] = ()) -> ChildRecord:
    """Fast path for a `values_list(*CHILD_FIELDS)` row (already NFC, typed by the driver; same field order)."""
    updated = row[19]
    return ChildRecord(  # type: ignore[misc]
        *row[:18],
        status=row[18] or "active",
        updated_at=updated.date() if isinstance(updated, datetime) else updated,
        circumstances=tuple(
            CircumstanceRecord(
                c["group_code"] or "", c["subgroup_code"] or "", c["start_date"], c["end_date"]
            )
            for c in circumstances
        ),
    )


def evaluate_child(data: dict[str, Any]) -> list[RuleFinding]:
    """Inline warnings for the entry form / API (no writes). `data` uses the Child field names;
    `commune`, `village`, `unit` may be objects or ids; `circumstances` a list of dicts."""
    row = dict(data)
    for key in ("unit", "commune", "village"):
        if key in row and f"{key}_id" not in row:
            value = row[key]
            row[f"{key}_id"] = getattr(value, "pk", value)
    row.setdefault("updated_at", None)
    record = record_from_row(row, row.get("circumstances") or ())
    findings, _ = run_rules(record, cached_context())
    # "Dead record" and "aged 16+" make no sense on a record being entered now.
    return [f for f in findings if f.rule_code not in ("DQ_DEAD",)]


# --- storing findings -------------------------------------------------------------------------------


def _store(
    *,
    child_units: dict[int, int],
    produced: list[tuple[int, RuleFinding]],
    failures: list[RuleFailure],
    scan: ScanRun | None,
    now: datetime,
) -> dict[str, int]:
    """Upsert one chunk's findings; close the chunk's open findings that no longer occur."""
    # An id range is much cheaper to build and plan than IN (5000 ids); rows of other children are dropped.
    lo, hi = min(child_units), max(child_units)
    existing = {
        (rule, cid, fp): (fid, status)
        for fid, rule, cid, fp, status in Finding.objects.filter(
            child_id__gte=lo, child_id__lte=hi
        ).values_list("id", "rule_code", "child_id", "fingerprint", "status")
        if cid in child_units and rule in RULES_BY_CODE
    }
    seen_ids: list[int] = []
    reopen: list[int] = []
    new: list[Finding] = []
    keys: set[tuple[str, int, str]] = set()
    for cid, f in produced:
        key = (f.rule_code, cid, f.fingerprint[:64])
        if key in keys:
            continue
        keys.add(key)
        hit = existing.get(key)
        if hit:
            seen_ids.append(hit[0])
            if hit[1] == FindingStatus.FIXED:
                reopen.append(hit[0])
            continue
        rule = RULES_BY_CODE[f.rule_code]
        new.append(
            Finding(
                rule_code=f.rule_code, criterion=rule.criterion, severity=rule.severity, child_id=cid,
                unit_id=child_units[cid], fingerprint=key[2], field=f.field, message=f.message[:300],
                details=f.details, first_seen=now, last_seen=now, last_scan=scan,
            )
        )  # fmt: skip
    gone = [
        fid for key, (fid, status) in existing.items() if key not in keys and status == FindingStatus.OPEN
    ]
    if new:
        Finding.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    for i in range(0, len(seen_ids), 5000):
        Finding.objects.filter(id__in=seen_ids[i : i + 5000]).update(last_seen=now, last_scan=scan)
    if reopen:
        Finding.objects.filter(id__in=reopen).update(status=FindingStatus.OPEN)
    for i in range(0, len(gone), 5000):
        Finding.objects.filter(id__in=gone[i : i + 5000]).update(status=FindingStatus.FIXED, last_seen=now)
    if failures:
        RuleError.objects.bulk_create(
            [RuleError(scan=scan, rule_code=x.rule_code, child_id_value=x.record_id, error=x.error[:2000]) for x in failures]
        )  # fmt: skip
    return {"new": len(new), "fixed": len(gone), "errors": len(failures)}


def check_children(
    rows: list[tuple[Any, ...]], circ: dict[int, list[dict[str, Any]]], ctx: RuleContext, scan: ScanRun | None
) -> dict[str, int]:
    """Rows are `values_list(*CHILD_FIELDS)` tuples."""
    produced: list[tuple[int, RuleFinding]] = []
    failures: list[RuleFailure] = []
    child_units: dict[int, int] = {}
    for row in rows:
        cid = row[0]
        child_units[cid] = row[1]
        try:
            record = record_from_db(row, circ.get(cid, ()))
        except Exception as exc:  # a row that cannot even be read is itself reported
            failures.append(RuleFailure("LOAD", cid, f"{type(exc).__name__}: {exc}"))
            continue
        found, failed = run_rules(record, ctx)
        produced.extend((cid, f) for f in found)
        failures.extend(failed)
    return _store(
        child_units=child_units, produced=produced, failures=failures, scan=scan, now=timezone.now()
    )


def _circumstances_for(ids: list[int]) -> dict[int, list[dict[str, Any]]]:

    out: dict[int, list[Any]] = {}
    if not ids:
        return out
    wanted = set(ids)
    for c in CircumstanceMembership.objects.filter(child_id__gte=min(ids), child_id__lte=max(ids)).values(
        "child_id", "group_code", "subgroup_code", "start_date", "end_date"
    ):
        if c["child_id"] in wanted:
            out.setdefault(c["child_id"], []).append(c)
    return out


def on_child_changed(child: Any) -> dict[str, int]:
    """Re-check one child after an approved change (registry calls this on commit)."""

    from .scores import refresh_unit_scores

    rows = list(Child.objects.filter(pk=child.pk).values_list(*CHILD_FIELDS))
    if not rows:
        return {}
    with transaction.atomic():
        if rows[0][18] != "active":
            n = Finding.objects.filter(child_id=child.pk, status=FindingStatus.OPEN).update(
                status=FindingStatus.FIXED, last_seen=timezone.now()
            )
            result = {"new": 0, "fixed": n, "errors": 0}
        else:
            result = check_children(rows, _circumstances_for([child.pk]), cached_context(), None)
        refresh_unit_scores(unit_ids={rows[0][1]})
    return result


def _start_scan(unit: Any | None, *, restart: bool) -> ScanRun:
    scope = unit.path if unit is not None else ""
    running = ScanRun.objects.filter(scope_path=scope, status=ScanRun.Status.RUNNING).first()
    if running and restart:
        running.status = ScanRun.Status.FAILED
        running.save(update_fields=["status"])
        running = None
    if running:
        return running
    try:
        return ScanRun.objects.create(unit=unit, scope_path=scope)
    except IntegrityError:  # another process started the same scan a moment ago
        return ScanRun.objects.get(scope_path=scope, status=ScanRun.Status.RUNNING)


def scan_run(
    *, unit: Any | None = None, restart: bool = False, chunk: int = CHUNK, stop_after: int | None = None
) -> ScanRun:
    """Full rule scan of the children of `unit`'s subtree (all children when None). Resumable.

    `stop_after` (tests/benchmarks) stops after that many chunks, leaving the scan resumable.
    """

    from .scores import refresh_unit_scores

    scan = _start_scan(unit, restart=restart)
    ctx = build_context()
    base = Child.objects.filter(status="active")
    if unit is not None:
        base = visible_under(base, unit, lookup="unit__path")
    counts: dict[str, int] = dict(scan.counts.get("store", {})) if scan.counts else {}
    done_chunks = 0
    while True:
        rows = list(base.filter(id__gt=scan.checkpoint).order_by("id").values_list(*CHILD_FIELDS)[:chunk])
        if not rows:
            break
        ids = [r[0] for r in rows]
        with transaction.atomic():
            result = check_children(rows, _circumstances_for(ids), ctx, scan)
            for k, v in result.items():
                counts[k] = counts.get(k, 0) + v
            scan.checkpoint = ids[-1]
            scan.records += len(rows)
            scan.counts = {"store": counts}
            scan.save(update_fields=["checkpoint", "records", "counts"])
        done_chunks += 1
        if stop_after is not None and done_chunks >= stop_after:
            return scan
    with transaction.atomic():
        # Records that left the active registry (deleted, merged) keep no open findings.
        closed = Finding.objects.filter(status=FindingStatus.OPEN, rule_code__in=RULES_BY_CODE).exclude(
            child__status="active"
        )
        if unit is not None:
            closed = visible_under(closed, unit, lookup="unit__path")
        closed.update(status=FindingStatus.FIXED, last_seen=timezone.now())
        unit_ids = set(base.values_list("unit_id", flat=True).distinct())
        refresh_unit_scores(unit_ids=unit_ids)
        scan.status = ScanRun.Status.DONE
        scan.finished_at = timezone.now()
        scan.save(update_fields=["status", "finished_at"])
    return scan


def rule_codes() -> list[str]:
    return [r.code for r in RULES]


def recheck_children(child_ids: list[int]) -> None:
    """Registry hook (mchis.registry.hooks): the rules run on every approved change, after it commits."""

    for child in Child.objects.filter(pk__in=child_ids).only("pk"):
        on_child_changed(child)
