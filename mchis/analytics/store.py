"""Keeping the analytics store current (issue 15): mark dirty on write, recompute only what is dirty.

Flow: a register write or a quality-score refresh calls ``mchis.core.changes.unit_months_changed``, a report
transition or edit ``mchis.core.changes.report_figures_changed`` (ADR 0076), in its transaction → ``mark_dirty``
(registered in ``AnalyticsConfig.ready``, with ``mark_report_dirty`` for the report event) upserts ``DirtyUnitMonth`` rows and, after commit, queues the
``analytics.recompute_dirty`` task by name (a Celery worker; without a broker - demo, tests - it runs in place).
``recompute_unit_month`` computes the unit's own values with the report engine (``register_values`` over the
forms the unit files and the analytics elements), diffs them against the stored ones and applies only the
differences to the unit and each of its ancestors' roll-up rows (one upsert per changed element and level).

Report-form cells (BCX3, BCH4–8, BCT4–8) are not summed that way (ADR 0077): an upper total counts an event
recorded by two facilities once, and a station counts its residents served elsewhere, both by person, not by
unit. Recomputing a unit-month marks its province (and the provinces of the residents it served) in
``DirtyRollup``; ``recompute_rollup`` then rewrites the report-cell roll-up rows of that province from the
reports' bulk roll-up (``reports.selectors.rollup``) and passes the province's differences up by deltas.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from mchis.core.changes import ReportFiguresChange
from mchis.core.jobs import enqueue
from mchis.quality.models import QualitySnapshot
from mchis.reports.compute import Number, complete, register_values
from mchis.reports.models import FROZEN_STATES, ReportInstance
from mchis.reports.periods import Period, deadline, deadline_days_for
from mchis.reports.selectors import APPROVED, Crossing, crossings, forms_in_force, rollup
from mchis.reports.selectors.duplicates import REGISTERS
from mchis.units.models import ReportingUnit, UnitKind
from mchis.units.provinces import province_code_of

from . import coverage, population
from .definitions import ELEMENT_FORM, catalog
from .models import (
    CrossProvinceEvent,
    DirtyCoverage,
    DirtyRollup,
    DirtyUnitMonth,
    RollupValue,
    ScreeningSeen,
    UnitMonthValue,
)

logger = logging.getLogger(__name__)
TASK = "analytics.recompute_dirty"
Values = dict[str, tuple[float, float | None]]  # element -> (provisional, approved or None)
# elements summed up the tree by deltas
OWN_FORMS = (ELEMENT_FORM, "RPT", "DQ", "APPROVED", population.FORM, coverage.FORM)


def is_report_element(element: str) -> bool:
    """A report-form cell (``BCX3.I.5:total``, ``BCH4.T:7``): its roll-ups come from ``recompute_rollup``."""
    return element.split(".", 1)[0] not in OWN_FORMS


_drain_state = threading.local()


def wake_after_commit() -> None:
    """Queue a recompute once the caller's transaction commits, unless this thread is the recompute: its drain
    picks the rows just marked up before it returns. Without that, a recompute that marks coverage or roll-ups
    queued itself again, and with no broker (tasks run in place) each of those ran inside the last one: a
    national generation nested one call per unit-month until Python's recursion limit."""
    if getattr(_drain_state, "active", False):
        return
    transaction.on_commit(lambda: enqueue(TASK))


def mark_dirty(pairs: Iterable[tuple[int, date]]) -> None:
    """Mark unit-months dirty (inside the caller's transaction) and queue a recompute after commit."""
    now = timezone.now()
    keys = sorted({(uid, month.replace(day=1)) for uid, month in pairs})
    if not keys:
        return
    if connection.vendor == "postgresql":
        # One statement over two arrays: a register batch marks ~2,000 unit-months, and building as many model
        # instances and a 6,000-parameter INSERT was the bulk API's largest cost (issue 20). Same rows: a pair
        # already dirty keeps its first marked_at; key order, so concurrent batches lock in the same order.
        table = DirtyUnitMonth._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (unit_id, month, marked_at) "  # noqa: S608 - identifier from the model
                "SELECT u, m, %s FROM unnest(%s::bigint[], %s::date[]) AS k(u, m) "
                "ON CONFLICT (unit_id, month) DO NOTHING",
                [now, [k[0] for k in keys], [k[1] for k in keys]],
            )
    else:
        DirtyUnitMonth.objects.bulk_create(
            [DirtyUnitMonth(unit_id=uid, month=month, marked_at=now) for uid, month in keys],
            ignore_conflicts=True,
        )
    wake_after_commit()


def mark_report_dirty(change: ReportFiguresChange) -> None:
    """A report's figures changed (any transition or edit): its unit-month's provisional/approved values."""
    mark_dirty({(change.unit_id, change.month.replace(day=1))})


def recompute_now(pairs: Iterable[tuple[int, date]]) -> int:
    """Bring these unit-months up to date now, for a reader that must see them current (the portal revising
    published figures after an approval; the worker may not have run yet). A dirty row that a worker holds is
    waited for (no skip_locked): once it commits the row is gone and the values are current. Returns how many
    were recomputed here."""
    done = 0
    wanted = sorted({(uid, m.replace(day=1)) for uid, m in pairs})
    for unit_id, month in wanted:
        with transaction.atomic():
            dirty = list(
                DirtyUnitMonth.objects.select_for_update()
                .filter(unit_id=unit_id, month=month)
                .values_list("id", flat=True)
            )
            if not dirty:
                continue
            DirtyUnitMonth.objects.filter(pk__in=dirty).delete()
            recompute_unit_month(unit_id, month)
        done += 1
    recompute_coverage_now({m for _, m in wanted})  # women screened in 5 years their screenings reach
    recompute_rollups_now({m for _, m in wanted})  # their provinces' report-cell roll-ups
    return done


def recompute_coverage_now(months: Iterable[date]) -> int:
    """Every dirty coverage unit-month of these months, waiting for one a worker holds (ADR 0079)."""
    rows = DirtyCoverage.objects.filter(month__in=list(months))
    return _claim_each(DirtyCoverage, "unit_id", rows, recompute_coverage)


def recompute_rollups_now(months: Iterable[date] | None = None) -> int:
    """Every dirty province roll-up (of these months), waiting for one a worker holds."""
    rows = DirtyRollup.objects.all()
    if months is not None:
        rows = rows.filter(month__in=list(months))
    return _claim_each(DirtyRollup, "root_id", rows, recompute_rollup)


def _claim_each(model: Any, key: str, rows: Any, recompute: Any) -> int:
    """Claim each marked (owner, month) of `rows` — waiting for a worker that holds it — and recompute it."""
    done = 0
    for owner, month in sorted(set(rows.values_list(key, "month"))):
        with transaction.atomic():
            dirty = list(
                model.objects.select_for_update()
                .filter(**{key: owner}, month=month)
                .values_list("id", flat=True)
            )
            if not dirty:
                continue
            model.objects.filter(pk__in=dirty).delete()
            recompute(owner, month)
        done += 1
    return done


def recompute_pending(months: Iterable[date], root_path: str = "") -> int:
    """``recompute_now`` for every dirty unit-month of these months under `root_path` ('' = everywhere): the
    portal publishes from current values."""
    pairs = DirtyUnitMonth.objects.filter(month__in=[m.replace(day=1) for m in months])
    if root_path:
        pairs = pairs.filter(unit__path__startswith=root_path)
    return recompute_now(pairs.values_list("unit_id", "month"))


def recompute_dirty(*, limit: int = 2000) -> int:
    """Recompute up to `limit` dirty unit-months, oldest first, then up to `limit` dirty coverage unit-months
    (ADR 0079) and dirty province roll-ups (ADR 0077), one transaction each (a concurrent worker skips the rows
    another holds). Returns how many unit-months were recomputed; work left past a limit is queued again."""
    _drain_state.active = True
    try:
        done = _drain(DirtyUnitMonth, "unit_id", recompute_unit_month, limit)
        covered = _drain(DirtyCoverage, "unit_id", recompute_coverage, limit * 10)
        rolled = _drain(DirtyRollup, "root_id", recompute_rollup, limit)
    finally:
        _drain_state.active = False
    if done == limit or covered == limit * 10 or rolled == limit:
        wake_after_commit()  # the rest, as its own task (in place without a broker: one level per batch)
    return done


def _drain(model: Any, key: str, recompute: Any, limit: int) -> int:
    """Claim the oldest row of a dirty table (skipping rows another worker holds), delete it and recompute it in
    the same transaction (a crash leaves it dirty), up to `limit` times."""
    done = 0
    while done < limit:
        with transaction.atomic():
            row = (
                model.objects.select_for_update(skip_locked=True)
                .order_by("marked_at", "id")
                .values("id", key, "month")
                .first()
            )
            if row is None:
                break
            model.objects.filter(pk=row["id"]).delete()
            recompute(row[key], row["month"])
        done += 1
    return done


def compute_unit_month(unit: ReportingUnit, month: date) -> Values:
    """The unit's own values for the month: every cell of every monthly form it files (registers + its manual
    cells, formulas completed), the analytics elements, its report counts and data-quality counts."""
    period = Period(month, "monthly")
    forms = [f for f in forms_in_force(month) if f.period_type == "monthly" and unit.kind in f.unit_kinds]
    reports = {
        r.form_id: r
        for r in ReportInstance.objects.filter(unit=unit, period_start=month, form__in=forms).only(
            "form_id", "status", "manual_values", "first_submitted_at"
        )
    }
    approved_any = any(r.status in APPROVED for r in reports.values())
    out: Values = {}

    def put(element: str, value: Number, approved: bool) -> None:
        out[element] = (float(value), float(value) if approved else None)

    submitted = on_time = 0
    for form in forms:
        spec = form.parsed()
        report = reports.get(form.pk)
        own: dict[str, Number] = register_values(spec, [unit.pk], period).get(unit.pk, {})
        if report is not None:
            own.update({k: v for k, v in (report.manual_values or {}).items() if v is not None})
        is_approved = report is not None and report.status in APPROVED
        for key, value in complete(spec, own).items():
            put(f"{form.code}.{key}", value, is_approved)
        if report is not None and (report.first_submitted_at or report.status in FROZEN_STATES):
            submitted += 1
            due = deadline(period, deadline_days_for(form.level, unit.kind, form.deadline_days))
            if report.first_submitted_at is not None and report.first_submitted_at < due:
                on_time += 1
    if forms:
        for element, value in (
            ("RPT.expected", len(forms)),
            ("RPT.submitted", submitted),
            ("RPT.on_time", on_time),
        ):
            put(element, value, True)
        spec = catalog().spec
        for key, value in complete(spec, register_values(spec, [unit.pk], period).get(unit.pk, {})).items():
            put(f"{ELEMENT_FORM}.{key}", value, approved_any)
    if approved_any:
        put("APPROVED.any", 1, True)
    # women 30–49 screened in the 60 months to this one, held by this unit (a stock; ADR 0079)
    put(coverage.ELEMENT, coverage.women_screened(unit.pk, month), approved_any)
    for crit, records, bad in QualitySnapshot.objects.filter(unit=unit, month=month).values_list(
        "criterion", "records", "records_with_findings"
    ):
        put(f"DQ.{crit}.records", records, True)
        put(f"DQ.{crit}.bad", bad, True)
    if unit.kind == UnitKind.TYT and unit.admin_unit_id:  # its commune's population (a stock, not a count)
        for element, people in (
            population.commune_values(month.year, [unit.admin_unit_id]).get(unit.admin_unit_id, {}).items()
        ):
            put(element, people, True)
    # A zero is not stored (absent = 0); "not approved" is told by APPROVED.any, not by a zero.
    return {e: v for e, v in out.items() if v[0] != 0 or (v[1] or 0) != 0}


def ancestor_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def recompute_unit_month(unit_id: int, month: date) -> int:
    """Recompute one unit-month and apply the differences up the tree. Returns the number of changed elements.
    Call inside a transaction (``recompute_dirty`` does)."""
    unit = ReportingUnit.objects.filter(pk=unit_id).only("id", "kind", "path", "admin_unit_id").first()
    if unit is None:
        return 0
    new = compute_unit_month(unit, month)
    mark_coverage(unit_id, month)
    stored = UnitMonthValue.objects.select_for_update().filter(unit_id=unit_id, month=month)
    old: Values = {e: (p, a) for e, p, a in stored.values_list("element", "provisional", "approved")}
    deltas: list[tuple[str, float, float]] = []
    for element in set(new) | set(old):
        np_, na = new.get(element, (0.0, None))
        op, oa = old.get(element, (0.0, None))
        if np_ != op or na != oa:
            deltas.append((element, np_ - op, (na or 0.0) - (oa or 0.0)))
    mark_rollups(unit, month, files=any(is_report_element(e) for e in (*new, *old)))
    if not deltas:
        return 0
    gone = [e for e in old if e not in new]
    if gone:
        stored.filter(element__in=gone).delete()
    UnitMonthValue.objects.bulk_create(
        [
            UnitMonthValue(unit_id=unit_id, month=month, element=e, provisional=p, approved=a)
            for e, (p, a) in new.items()
            if old.get(e) != (p, a)
        ],
        update_conflicts=True,
        unique_fields=["unit", "month", "element"],
        update_fields=["provisional", "approved"],
    )
    apply_rollup_deltas(ancestor_ids(unit.path), month, [d for d in deltas if not is_report_element(d[0])])
    return len(deltas)


def mark_coverage(unit_id: int, month: date) -> int:
    """When the unit-month's cervical screenings differ from what the coverage count last saw, mark every
    unit-month their women's count can change in (``coverage.reached``: this unit and every unit holding one of
    these women, before or after, months `month` … `month`+59). Returns the unit-months marked."""
    digest, people = coverage.seen(unit_id, month)
    before = ScreeningSeen.objects.filter(unit_id=unit_id, month=month).first()
    if (before.digest if before else "") == digest:
        return 0
    pairs = coverage.reached(unit_id, month, [*(before.people if before else []), *people])
    if digest:
        ScreeningSeen.objects.update_or_create(
            unit_id=unit_id, month=month, defaults={"digest": digest, "people": people}
        )
    elif before is not None:
        before.delete()
    now = timezone.now()
    DirtyCoverage.objects.bulk_create(
        [DirtyCoverage(unit_id=u, month=m, marked_at=now) for u, m in sorted(pairs)],
        ignore_conflicts=True,
        batch_size=2000,
    )
    wake_after_commit()
    return len(pairs)


def recompute_coverage(unit_id: int, month: date) -> int:
    """Recompute the unit-month's women screened in 5 years alone (a few queries, not the unit's whole month)
    and pass the difference up the tree. Approved like the unit's analytics elements: when its month has an
    approved report. Returns 1 when the value changed."""
    unit = ReportingUnit.objects.filter(pk=unit_id).only("id", "path").first()
    if unit is None:
        return 0
    value = float(coverage.women_screened(unit_id, month))
    approved = UnitMonthValue.objects.filter(unit_id=unit_id, month=month, element="APPROVED.any").exists()
    new = (value, value if approved else None)
    stored = UnitMonthValue.objects.select_for_update().filter(
        unit_id=unit_id, month=month, element=coverage.ELEMENT
    )
    row = stored.values_list("provisional", "approved").first()
    old = (row[0], row[1]) if row else (0.0, None)
    if new == old:
        return 0
    if new[0] == 0 and not new[1]:
        stored.delete()
    else:
        UnitMonthValue.objects.update_or_create(
            unit_id=unit_id,
            month=month,
            element=coverage.ELEMENT,
            defaults={"provisional": new[0], "approved": new[1]},
        )
    delta = (coverage.ELEMENT, new[0] - old[0], (new[1] or 0.0) - (old[1] or 0.0))
    apply_rollup_deltas(ancestor_ids(unit.path), month, [delta])
    return 1


def province_root(path: str) -> int:
    """The root of the roll-up recompute of a unit: its Sở Y tế (the province subtree), else its top unit."""
    ids = ancestor_ids(path)
    doh = ReportingUnit.objects.filter(pk__in=ids, kind=UnitKind.DOH).values_list("pk", "path")
    tops = sorted(doh, key=lambda r: len(r[1]))
    return tops[0][0] if tops else ids[0]


def mark_rollups(unit: ReportingUnit, month: date, *, files: bool) -> None:
    """Mark the unit's province for the month (when the unit has report cells: `files`), and the provinces of
    the stations whose residents' events the unit recorded (derived into their "CSYT khác", ADR 0047; voided
    rows too: the void removes one). A commune station always marks its province: its "CSYT khác" counts its
    residents' events recorded elsewhere, which are not among its own values (a month of only those has none).
    A unit with neither (the ministry) marks nothing."""
    paths = [unit.path] if files or unit.kind == UnitKind.TYT else []
    codes: set[str] = set()
    province = province_code_of(unit.pk)  # named: the registers are partitioned by it (ADR 0075)
    for model in REGISTERS.values():
        codes.update(
            model.objects.filter(province_code=province, facility_id=unit.pk, month=month)
            .exclude(residence_commune_code="")
            .values_list("residence_commune_code", flat=True)
            .distinct()
        )
    if codes:
        paths += ReportingUnit.objects.filter(
            kind=UnitKind.TYT, admin_unit__code__in=sorted(codes)
        ).values_list("path", flat=True)
    if not paths:
        return
    now = timezone.now()
    roots = {province_root(p) for p in set(paths)}
    DirtyRollup.objects.bulk_create(
        [DirtyRollup(root_id=r, month=month, marked_at=now) for r in roots], ignore_conflicts=True
    )
    wake_after_commit()


def _report_rows(path: str, month: date) -> dict[tuple[int, str], tuple[float, float]]:
    rows = RollupValue.objects.filter(node__path__startswith=path, month=month)
    for prefix in OWN_FORMS:
        rows = rows.exclude(element__startswith=f"{prefix}.")
    return {
        (n, e): (p, a) for n, e, p, a in rows.values_list("node_id", "element", "provisional", "approved")
    }


def recompute_rollup(root_id: int, month: date) -> int:
    """Rewrite the report-cell roll-up rows of one province subtree for the month (ADR 0077). A unit that files
    a form gets that form's cells as the reports' bulk roll-up counts them (``rollup``: each event once, its
    residents served elsewhere, as if every report below were approved) plus its typed cells (not in the
    roll-up); approved = its approved report's values. A unit that does not file the form gets the sum of its
    children. An event two districts of the province count (a station's "CSYT khác" and a facility of another
    district) is taken out once of the district-level cells of the units above both districts (ADR 0079). The
    province's own differences go up to its ancestors by deltas. Returns the rows changed."""
    root = ReportingUnit.objects.filter(pk=root_id).only("id", "path").first()
    if root is None:
        return 0
    period = Period(month, "monthly")
    out = rollup(period, root)
    found = crossings(period, root.path)
    sides = Sides(month)
    reports = ReportInstance.objects.filter(
        unit__path__startswith=root.path, period_start=month, period_type="monthly"
    ).values_list("form__code", "unit_id", "status", "manual_values", "snapshot")
    filed: dict[int, set[str]] = defaultdict(set)
    own: dict[int, dict[str, list[float]]] = defaultdict(dict)
    for (code, uid), cells in out.items():
        filed[uid].add(code)
        for key, value in cells.items():
            own[uid][f"{code}.{key}"] = [float(value or 0), 0.0]
    for code, uid, status, manual, snapshot in reports:
        filed[uid].add(code)
        for key, value in (manual or {}).items():
            if value is not None and f"{code}.{key}" not in own[uid]:
                own[uid][f"{code}.{key}"] = [float(value), 0.0]
        if status in APPROVED:
            for key, value in ((snapshot or {}).get("values") or {}).items():
                own[uid].setdefault(f"{code}.{key}", [0.0, 0.0])[1] = float(value or 0)
    nodes = list(ReportingUnit.objects.filter(path__startswith=root.path).values_list("pk", "path"))
    children: dict[int, list[int]] = defaultdict(list)
    for pk, path in nodes:
        ids = ancestor_ids(path)
        if pk != root.pk and len(ids) > 1:
            children[ids[-2]].append(pk)
    new: dict[tuple[int, str], tuple[float, float]] = {}
    totals: dict[int, dict[str, list[float]]] = {}
    for pk, _ in sorted(nodes, key=lambda n: -len(n[1])):  # deepest first
        mine = {e: list(v) for e, v in own.get(pk, {}).items()}
        for child in children.get(pk, []):
            for e, (p, a) in totals[child].items():
                if e.split(".", 1)[0] in filed.get(pk, ()):
                    continue  # the unit's own form: its total already counts what is below, once
                sums = mine.setdefault(e, [0.0, 0.0])
                sums[0] += p
                sums[1] += a
        totals[pk] = mine
        new.update({(pk, e): (p, a) for e, (p, a) in mine.items() if p or a})
    for (node, e), (dp, da) in sides.district_takeouts(found, {pk for pk, _ in nodes}, filed).items():
        p, a = new.get((node, e), (0.0, 0.0))
        new[(node, e)] = (p - dp, a - da)
        if new[(node, e)] == (0.0, 0.0):
            del new[(node, e)]
    old = _report_rows(root.path, month)
    changed = [(n, e, p, a) for (n, e), (p, a) in new.items() if old.get((n, e)) != (p, a)]
    gone = [k for k in old if k not in new]
    for node, element in gone:
        RollupValue.objects.filter(node_id=node, element=element, month=month).delete()
    RollupValue.objects.bulk_create(
        [RollupValue(node_id=n, element=e, month=month, provisional=p, approved=a) for n, e, p, a in changed],
        update_conflicts=True,
        unique_fields=["node", "element", "month"],
        update_fields=["provisional", "approved"],
    )
    above = ancestor_ids(root.path)[:-1]
    if above:
        keys = {e for n, e in (*new, *old) if n == root.pk}
        deltas = []
        for e in keys:
            np_, na = new.get((root.pk, e), (0.0, 0.0))
            op, oa = old.get((root.pk, e), (0.0, 0.0))
            if (np_, na) != (op, oa):
                deltas.append((e, np_ - op, na - oa))
        apply_rollup_deltas(above, month, deltas)
    recompute_crossings(root, month, found, sides)
    return len(changed) + len(gone)


CrossKey = tuple[str, str, int, int]  # (kind, register, record id, station id)


class Sides:
    """The units a month's crossings name: their paths and kinds, whether a report total holds their rows, their
    province, the unit whose form of a level counts them, and the approved reports of the month (lookups cached)."""

    def __init__(self, month: date) -> None:
        self.forms = {f.code: f for f in forms_in_force(month) if f.period_type == "monthly"}
        self.filers = {k for f in self.forms.values() for k in f.unit_kinds}
        self.paths: dict[int, str] = {}
        self.kinds: dict[int, str] = {}
        self.roots: dict[int, int] = {}
        self.approved: set[tuple[int, str]] = set()  # (filing unit, form code) approved this month
        self.approved_roots: set[tuple[int, str]] = set()  # (province root, province-level form code)
        for unit_id, code, level in ReportInstance.objects.filter(
            period_start=month, period_type="monthly", status__in=APPROVED
        ).values_list("unit_id", "form__code", "form__level"):
            self.approved.add((unit_id, code))
            if level == "province" and (r := self.province_of(unit_id)) is not None:
                self.approved_roots.add((r, code))

    def _load(self, ids: Iterable[int]) -> None:
        missing = [i for i in ids if i not in self.paths]
        for pk, path, kind in ReportingUnit.objects.filter(pk__in=missing).values_list("pk", "path", "kind"):
            self.paths[pk], self.kinds[pk] = path, kind
        for i in missing:
            self.paths.setdefault(i, "")
            self.kinds.setdefault(i, "")

    def path_of(self, uid: int) -> str:
        self._load([uid])
        return self.paths[uid]

    def counted(self, uid: int) -> bool:
        """Does a report total hold this facility's own row (it files a monthly form)?"""
        self._load([uid])
        return self.kinds[uid] in self.filers

    def province_of(self, uid: int) -> int | None:
        if uid not in self.roots:
            p = self.path_of(uid)
            self.roots[uid] = province_root(p) if p else 0
        return self.roots[uid] or None

    def filer_of(self, uid: int, code: str) -> int | None:
        """The highest unit at or above `uid` that files form `code`: the total that holds `uid`'s rows and every
        filer below it (a district hospital under its TTYT: the TTYT's total took their shared events out)."""
        ids = ancestor_ids(self.path_of(uid))
        self._load(ids)
        kinds = set(self.forms[code].unit_kinds) if code in self.forms else set()
        return next((a for a in ids if self.kinds[a] in kinds), None)

    def district_pair(self, c: Crossing, code: str) -> tuple[int, int] | None:
        """The two district-level totals of form `code` that both count crossing `c`, or None (one total holds
        both sides and took it out, or a side is in no district total)."""
        facs = [f for f in c.facility_ids if self.counted(f)]
        mine = self.filer_of(c.station_id, code)
        theirs = [self.filer_of(f, code) for f in facs]
        if mine is None or not theirs or mine in theirs or theirs[0] is None:
            return None
        return mine, theirs[0]

    def district_takeouts(
        self, found: list[Crossing], subtree: set[int], filed: dict[int, set[str]]
    ) -> dict[tuple[int, str], tuple[float, float]]:
        """{(node, element): (provisional, approved)} to take out of the subtree's district-level cells: every
        event two districts of the subtree count, once at each unit of the subtree above both districts (that
        does not file the form itself). Approved: when both districts' reports of the form are approved."""
        out: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for c in found:
            if c.station_id not in subtree:
                continue
            for code, cells in c.values.items():
                form = self.forms.get(code)
                if form is None or form.level != "district" or not cells:
                    continue
                pair = self.district_pair(c, code)
                if pair is None:
                    continue
                mine, theirs = pair
                both = (mine, code) in self.approved and (theirs, code) in self.approved
                above = set(ancestor_ids(self.path_of(theirs))[:-1])
                for node in ancestor_ids(self.path_of(mine))[:-1]:
                    if node not in above or node not in subtree or code in filed.get(node, ()):
                        continue  # not above both, above the province (its delta carries it), or files it
                    for key, value in cells.items():
                        d = out[(node, f"{code}.{key}")]
                        d[0] += float(value)
                        d[1] += float(value) if both else 0.0
        return {k: (p, a) for k, (p, a) in out.items()}


def recompute_crossings(
    root: ReportingUnit, month: date, events: list[Crossing] | None = None, sides: Sides | None = None
) -> int:
    """Take out once, at the units above two provinces, the events both provinces count (ADR 0078): a station
    of one counts it as "CSYT khác" (typed or derived), a facility of the other recorded it, and no form is
    filed above a province to take it out — of the province-level cells, and of the district-level cells when
    a district total on each side counts it (ADR 0079). Every such event with a side in `root`'s province is
    recomputed here (the same rows, from either side: recomputing either province brings it up to date); what
    was taken out before is put back first. Approved: taken out only when the reports of the form that count it
    on both sides are approved (each approved total holds it). Returns the number of events taken out now."""
    if events is None:
        events = crossings(Period(month, "monthly"), root.path)
    sides = sides or Sides(month)
    path_of, root_of = sides.path_of, sides.province_of
    new: dict[CrossKey, tuple[int, int, dict[str, list[float]]]] = {}
    for c in events:
        mine, others = root_of(c.station_id), [root_of(f) for f in c.facility_ids if sides.counted(f)]
        if mine is None or not others or mine in others or others[0] is None:
            continue  # both sides in one province (its own total took it out once), or one side in no total
        values: dict[str, list[float]] = {}
        for code, cells in c.values.items():
            form = sides.forms.get(code)
            if form is None:
                continue
            if form.level == "district":  # each side's district total (a side in none: counted once)
                pair = sides.district_pair(c, code)
                if pair is None:
                    continue
                both = all((u, code) in sides.approved for u in pair)
            else:
                both = (mine, code) in sides.approved_roots and (others[0], code) in sides.approved_roots
            for key, value in cells.items():
                values[f"{code}.{key}"] = [float(value), float(value) if both else 0.0]
        if values:
            new[(c.kind, c.register, c.record_id, c.station_id)] = (mine, others[0], values)
    stored = CrossProvinceEvent.objects.filter(month=month).filter(
        models.Q(station_root=root) | models.Q(other_root=root) | models.Q(record_id__in=[k[2] for k in new])
    )
    old: dict[CrossKey, CrossProvinceEvent] = {}
    for event in stored:
        ident = (event.kind, event.register, event.record_id, event.station_id)
        if root.pk in (event.station_root_id, event.other_root_id) or ident in new:
            old[ident] = event
    deltas: dict[int, dict[str, list[float]]] = defaultdict(dict)

    def take(station_root: int, other_root: int, values: dict[str, list[float]], sign: float) -> None:
        above = set(ancestor_ids(path_of(other_root))[:-1])
        for node in ancestor_ids(path_of(station_root))[:-1]:
            if node in above:
                for e, (p, a) in values.items():
                    d = deltas[node].setdefault(e, [0.0, 0.0])
                    d[0] += sign * p
                    d[1] += sign * a

    for ident, row in old.items():
        if new.get(ident) != (row.station_root_id, row.other_root_id, row.values):
            take(row.station_root_id, row.other_root_id, row.values, +1.0)  # put back what was taken out
    for ident, (mine, other, values) in new.items():
        found = old.get(ident)
        if found is None or (found.station_root_id, found.other_root_id, found.values) != (
            mine,
            other,
            values,
        ):
            take(mine, other, values, -1.0)
    CrossProvinceEvent.objects.filter(pk__in=[r.pk for r in old.values()]).delete()
    CrossProvinceEvent.objects.bulk_create(
        [
            CrossProvinceEvent(
                month=month,
                kind=k[0],
                register=k[1],
                record_id=k[2],
                station_id=k[3],
                station_root_id=mine,
                other_root_id=other,
                values=values,
            )
            for k, (mine, other, values) in new.items()
        ]
    )
    for node, changes in deltas.items():
        moved = [(e, p, a) for e, (p, a) in changes.items() if p or a]
        if moved:
            apply_rollup_deltas([node], month, moved)
    return len(new)


def apply_rollup_deltas(nodes: list[int], month: date, deltas: list[tuple[str, float, float]]) -> None:
    _add_to_rollups([(node, e, month, dp, da) for node in nodes for e, dp, da in sorted(deltas)])


def _add_to_rollups(params: list[tuple[int, str, date, float, float]]) -> None:
    """Add (node, element, month, provisional, approved) differences to the roll-up rows (upsert)."""
    table = RollupValue._meta.db_table
    update = (
        f"ON CONFLICT (node_id, element, month) DO UPDATE SET provisional = {table}.provisional + "
        f"excluded.provisional, approved = {table}.approved + excluded.approved"
    )
    if connection.vendor == "postgresql" and len(params) > 100:
        # A population load adds ~240,000 differences: one statement per 10,000 over arrays, not one each (an
        # upsert touches a row once per statement, so the differences are summed per row first).
        summed: dict[tuple[int, str, date], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for node, element, month, dp, da in params:
            d = summed[(node, element, month)]
            d[0] += dp
            d[1] += da
        keys = sorted(summed)
        with connection.cursor() as cur:
            for i in range(0, len(keys), 10_000):
                part = keys[i : i + 10_000]
                cur.execute(
                    f"INSERT INTO {table} (node_id, element, month, provisional, approved) "  # noqa: S608 - model table
                    "SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::date[], %s::float8[], %s::float8[]) "
                    + update,
                    [
                        [k[0] for k in part],
                        [k[1] for k in part],
                        [k[2] for k in part],
                        [summed[k][0] for k in part],
                        [summed[k][1] for k in part],
                    ],
                )
        return
    sql = (  # table names from the models only
        f"INSERT INTO {table} (node_id, element, month, provisional, approved) VALUES (%s, %s, %s, %s, %s) "  # noqa: S608
        + update
    )
    with connection.cursor() as cur:
        cur.executemany(sql, params)


def rebuild_rollups() -> int:
    """Rebuild every roll-up row by the current tree (after units moved): the delta-summed elements from the
    units' own values in one statement, the report cells by recomputing every province × month (ADR 0077).
    Returns the number of roll-up rows."""
    own = UnitMonthValue._meta.db_table
    roll = RollupValue._meta.db_table
    units = ReportingUnit._meta.db_table
    summed = " OR ".join(f"v.element LIKE '{prefix}.%%'" for prefix in OWN_FORMS)
    with transaction.atomic(), connection.cursor() as cur:
        CrossProvinceEvent.objects.all().delete()  # taken out of rows deleted here: taken out again below
        cur.execute(f"DELETE FROM {roll}")  # noqa: S608 - table names from the models only
        cur.execute(f"""
            INSERT INTO {roll} (node_id, element, month, provisional, approved)
            SELECT a.id, v.element, v.month, SUM(v.provisional), SUM(COALESCE(v.approved, 0))
            FROM {own} v JOIN {units} u ON u.id = v.unit_id JOIN {units} a ON u.path LIKE a.path || '%%'
            WHERE {summed}
            GROUP BY a.id, v.element, v.month""")  # noqa: S608 - table names and constants only
        now = timezone.now()
        pairs = UnitMonthValue.objects.values_list("unit__path", "month").distinct()
        marks = {(province_root(path), month) for path, month in pairs}
        DirtyRollup.objects.bulk_create(
            [DirtyRollup(root_id=r, month=m, marked_at=now) for r, m in marks], ignore_conflicts=True
        )
    recompute_rollups_now()
    return RollupValue.objects.count()


def refresh_population(year: int) -> int:
    """Bring the population elements of every commune station's months of `year` to the version in force (after
    a load): the differences go to the station and its ancestors by deltas, summed per node first (one row per
    node × element × month). Call inside the loading transaction. Returns the unit-month values changed."""
    months = population.months_of(year)
    stations = list(
        ReportingUnit.objects.filter(kind=UnitKind.TYT, admin_unit__isnull=False).values_list(
            "pk", "admin_unit_id", "path"
        )
    )
    values = population.commune_values(year)
    stored = UnitMonthValue.objects.filter(month__in=months, element__startswith=f"{population.FORM}.")
    old = {(u, m, e): p for u, m, e, p in stored.values_list("unit_id", "month", "element", "provisional")}
    new = {
        (uid, m, e): people
        for uid, place, _ in stations
        for e, people in values.get(place, {}).items()
        if people
        for m in months
    }
    paths = {uid: path for uid, _, path in stations}
    paths.update(
        ReportingUnit.objects.filter(pk__in={k[0] for k in old if k[0] not in paths}).values_list(
            "pk", "path"
        )
    )
    changed = [k for k in set(old) | set(new) if old.get(k, 0.0) != new.get(k, 0.0)]
    deltas: dict[tuple[int, str, date], float] = defaultdict(float)
    for uid, month, element in changed:
        for node in ancestor_ids(paths.get(uid, "")):
            deltas[(node, element, month)] += new.get((uid, month, element), 0.0) - old.get(
                (uid, month, element), 0.0
            )
    gone = [k for k in changed if k not in new]
    for uid, month, element in gone:
        stored.filter(unit_id=uid, month=month, element=element).delete()
    UnitMonthValue.objects.bulk_create(
        [
            UnitMonthValue(unit_id=u, month=m, element=e, provisional=new[(u, m, e)], approved=new[(u, m, e)])
            for u, m, e in changed
            if (u, m, e) in new
        ],
        update_conflicts=True,
        unique_fields=["unit", "month", "element"],
        update_fields=["provisional", "approved"],
        batch_size=2000,
    )
    _add_to_rollups(sorted((n, e, m, d, d) for (n, e, m), d in deltas.items() if d))
    return len(changed)


def filing_units() -> list[tuple[int, str]]:
    kinds: set[str] = set(catalog().spec.unit_kinds)
    for form in forms_in_force(timezone.localdate()):
        kinds.update(form.unit_kinds)
    return list(ReportingUnit.objects.filter(kind__in=kinds, active=True).values_list("id", "kind"))


def mark_months(months: list[date], unit_ids: list[int] | None = None) -> int:
    """Mark every filing unit (or the given ones) dirty for these months (rebuild, the monthly sweep)."""
    ids = unit_ids if unit_ids is not None else [uid for uid, _ in filing_units()]
    pairs = {(uid, m) for uid in ids for m in months}
    with transaction.atomic():
        mark_dirty(pairs)
    return len(pairs)


def sweep(today: date | None = None) -> dict[str, Any]:
    """Daily: units that have no report count yet for this or last month are marked (so a unit that never
    wrote anything still counts as expected in completeness), then every dirty unit-month is recomputed."""
    today = today or timezone.localdate()
    this = today.replace(day=1)
    last = Period(this, "monthly").previous().start
    marked = 0
    for month in (last, this):
        have = set(
            UnitMonthValue.objects.filter(month=month, element="RPT.expected").values_list(
                "unit_id", flat=True
            )
        )
        missing = [uid for uid, _ in filing_units() if uid not in have]
        if missing:
            marked += mark_months([month], missing)
    marked += open_coverage_month(this)
    started = time.monotonic()
    done = recompute_dirty(limit=100_000)
    return {"marked": marked, "recomputed": done, "seconds": round(time.monotonic() - started, 1)}


def open_coverage_month(month: date) -> int:
    """The women screened in 5 years of a month that has just begun: writes mark only months up to the
    current one (`coverage.reached`), so each unit holding a screening in the window gets its new month
    counted here, once (a unit whose count is already stored for the month is left alone)."""
    counted = set(
        UnitMonthValue.objects.filter(month=month, element=coverage.ELEMENT).values_list("unit_id", flat=True)
    )
    wanted = [u for u in coverage.units_to_open(month) if u not in counted]
    now = timezone.now()
    DirtyCoverage.objects.bulk_create(
        [DirtyCoverage(unit_id=u, month=month, marked_at=now) for u in wanted],
        ignore_conflicts=True,
        batch_size=2000,
    )
    return len(wanted)
