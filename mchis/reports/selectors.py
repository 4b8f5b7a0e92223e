"""Reads of reports, always scoped (R-MCH-07): a report's cells, its timeline, lists, dashboards.

``report_view`` is the one way to look at a report: it resolves the form version in force for the period,
the unit (inside the principal's jurisdiction, else 404), the instance (or an unsaved draft), and the values:
frozen snapshot once submitted, otherwise live from the registers plus the approved reports of the units
below (tổng hợp từ báo cáo đã duyệt của tuyến dưới) and the list of units still missing.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.http import Http404
from django.utils import timezone

from mchis.core.scoping import subtree_q, visible_to, visible_under, within
from mchis.units.models import ReportingUnit, UnitPlacement
from mchis.units.selectors import unit_get_visible

from . import workflow
from .checks import OutlierFlag, all_outliers
from .compute import Number, complete, register_values
from .definitions import FormSpec
from .models import FROZEN_STATES, FormDefinition, ReportInstance, ReportStatus, ReportTransition
from .periods import Period, deadline, deadline_days_for, parse_period

APPROVED = (ReportStatus.APPROVED, ReportStatus.UNAPPROVAL_REQUESTED)
HISTORY_PERIODS = 24


def form_in_force(code: str, day: date) -> FormDefinition:
    """The version of form `code` in force on `day` (newest valid_from wins), or 404."""
    found = FormDefinition.objects.filter(code=code).in_force_on(day).first()
    if found is None:
        raise Http404(f"Không có biểu '{code}' áp dụng cho ngày {day:%d/%m/%Y}.")
    return found


def forms_in_force(day: date) -> list[FormDefinition]:
    seen: set[str] = set()
    out = []
    for f in FormDefinition.objects.in_force_on(day):
        if f.code not in seen:
            seen.add(f.code)
            out.append(f)
    return out


def forms_for_unit(unit: ReportingUnit, day: date) -> list[FormDefinition]:
    return [f for f in forms_in_force(day) if unit.kind in f.unit_kinds]


def ancestors(unit: ReportingUnit) -> list[ReportingUnit]:
    """Units above `unit` in the current tree, nearest first."""
    ids = [int(p) for p in unit.path.strip("/").split("/")[:-1] if p]
    by_id = {u.pk: u for u in ReportingUnit.objects.filter(pk__in=ids)}
    return [by_id[i] for i in reversed(ids) if i in by_id]


def approver_for(unit: ReportingUnit) -> ReportingUnit | None:
    return workflow.approver_unit(unit, ancestors(unit))


def children_on(unit: ReportingUnit, day: date) -> list[ReportingUnit]:
    """Units reporting directly to `unit` on `day`, as the tree was then (dated placements, R-ORG-01)."""
    ids = UnitPlacement.objects.on(day).filter(parent=unit).values_list("unit_id", flat=True)
    return list(ReportingUnit.objects.filter(pk__in=list(ids)).order_by("code"))


def checksum(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass
class Contribution:
    """What one unit below contributes (or fails to contribute) to an upper-level report."""

    unit: ReportingUnit
    form_code: str
    status: str  # the child's report status, "" if none exists
    values: dict[str, Number] = field(default_factory=dict)

    @property
    def missing(self) -> bool:
        return self.status not in APPROVED


@dataclass
class Computed:
    values: dict[str, Number]
    own: dict[str, Number]
    contributions: list[Contribution]

    @property
    def missing(self) -> list[Contribution]:
        return [c for c in self.contributions if c.missing]


def compute_live(
    form: FormDefinition, unit: ReportingUnit, period: Period, manual: dict[str, Number]
) -> Computed:
    spec: FormSpec = form.parsed()
    own = register_values(spec, [unit.pk], period).get(unit.pk, {})
    for cell in spec.cells:
        if cell.manual and manual.get(cell.key) is not None:
            own[cell.key] = manual[cell.key]
    totals: dict[str, Number] = dict(own)
    contributions = _contributions(spec, unit, period)
    for contrib in contributions:
        for key, value in contrib.values.items():
            totals[key] = totals.get(key, 0) + value
    return Computed(complete(spec, totals), own, contributions)


def _contributions(spec: FormSpec, unit: ReportingUnit, period: Period) -> list[Contribution]:
    """Approved reports of the units below, mapped onto this form's cells through each cell's `aggregate`.

    A cell that a register can answer but that the unit's own form does not carry (BCH4 column 14, ARV for
    HIV+ women, is not a cell of the commune form BCX3) is computed from that unit's registers with this
    form's own query — only for units whose report is approved (their month is locked, so the value is as
    frozen as their snapshot). A unit row therefore never shows a silent 0 for activity its registers hold."""
    sources: dict[str, list[tuple[str, str]]] = defaultdict(
        list
    )  # child form code -> [(child cell, our cell)]
    for cell in spec.cells:
        for src in cell.aggregate:
            sources[src.form].append((src.cell, cell.key))
    if not sources:
        return []
    children = children_on(unit, period.start)
    if not children:
        return []
    forms = {f.code: f for f in forms_in_force(period.start) if f.code in sources}
    expected = [
        (child, code) for child in children for code, f in forms.items() if child.kind in f.unit_kinds
    ]
    if not expected:
        return []
    reports = {
        (r.unit_id, r.form.code): r
        for r in ReportInstance.objects.filter(
            unit__in=[c for c, _ in expected], form__code__in=list(forms), period_start=period.start
        ).select_related("form")
    }
    out = []
    for child, code in expected:
        rep = reports.get((child.pk, code))
        contrib = Contribution(child, code, rep.status if rep else "")
        if rep is not None and rep.status in APPROVED and rep.snapshot:
            snap = rep.snapshot.get("values", {})
            for child_cell, our_cell in sources[code]:
                if child_cell in snap:  # an optional manual cell left empty below adds nothing
                    contrib.values[our_cell] = contrib.values.get(our_cell, 0) + snap[child_cell]
        out.append(contrib)
    _fill_from_registers(spec, out, period)
    return out


_UNMAPPED: dict[tuple[int, frozenset[str]], tuple[FormSpec, FormSpec | None]] = {}


def unmapped_spec(spec: FormSpec, child_forms: frozenset[str]) -> FormSpec | None:
    """The query cells of `spec` that none of `child_forms` maps (computed from the child's registers)."""
    import dataclasses

    hit = _UNMAPPED.get((id(spec), child_forms))
    if hit is None or hit[0] is not spec:
        if len(_UNMAPPED) >= 512:
            _UNMAPPED.clear()
        cells = tuple(
            c
            for c in spec.cells
            if c.query is not None and c.aggregate and not any(a.form in child_forms for a in c.aggregate)
        )
        sub = dataclasses.replace(spec, cells=cells, rules=(), raw={}) if cells else None
        hit = _UNMAPPED[(id(spec), child_forms)] = (spec, sub)
    return hit[1]


def _fill_from_registers(spec: FormSpec, contributions: list[Contribution], period: Period) -> None:
    """Add to each approved unit's first contribution the cells its forms do not map, from its registers."""
    forms_of: dict[int, set[str]] = defaultdict(set)
    first: dict[int, Contribution] = {}
    for c in contributions:
        if not c.missing:
            forms_of[c.unit.pk].add(c.form_code)
            first.setdefault(c.unit.pk, c)
    groups: dict[frozenset[str], list[int]] = defaultdict(list)
    for uid, codes in forms_of.items():
        groups[frozenset(codes)].append(uid)
    for group, unit_ids in groups.items():
        sub = unmapped_spec(spec, group)
        if sub is None:
            continue
        for uid, values in register_values(sub, unit_ids, period).items():
            target = first[uid].values
            for key, value in values.items():
                target[key] = target.get(key, 0) + value


@dataclass
class ReportView:
    form: FormDefinition
    spec: FormSpec
    unit: ReportingUnit
    period: Period
    report: ReportInstance  # unsaved (pk None) when nobody has acted on it yet
    values: dict[str, Number]
    contributions: list[Contribution]
    approver: ReportingUnit | None
    due: datetime
    live: bool
    own: dict[str, Number] | None = None  # the unit's own data (registers + manual), not completed

    @property
    def status(self) -> str:
        return self.report.status

    @property
    def late(self) -> bool:
        sub = self.report.first_submitted_at
        return (sub or timezone.now()) >= self.due

    @property
    def missing(self) -> list[Contribution]:
        return [c for c in self.contributions if c.missing]

    def sources(self) -> dict[str, str]:
        return {c.key: c.source for c in self.spec.cells}


def resolve_unit(principal: Any, unit_code: str) -> ReportingUnit:
    return unit_get_visible(principal, unit_code)


def report_view(
    principal: Any, form_code: str, unit_code: str, period_text: str, *, lock: bool = False
) -> ReportView:
    try:
        period = parse_period(period_text)
    except ValueError as exc:
        raise Http404(str(exc)) from exc
    unit = resolve_unit(principal, unit_code)
    form = form_in_force(form_code, period.start)
    if form.period_type != period.type:
        raise Http404("Kỳ báo cáo không khớp loại kỳ của biểu.")
    if unit.kind not in form.unit_kinds:
        raise Http404(f"Đơn vị này không lập biểu {form.code}.")
    return build_view(form, unit, period, lock=lock)


def build_view(
    form: FormDefinition, unit: ReportingUnit, period: Period, *, lock: bool = False
) -> ReportView:
    qs = ReportInstance.objects.select_related("form", "unit", "submitted_by", "approved_by")
    if lock:
        qs = qs.select_for_update(of=("self",))
    report = qs.filter(form=form, unit=unit, period_start=period.start).first()
    if report is None:
        report = ReportInstance(form=form, unit=unit, period_start=period.start, period_type=period.type)
    spec = form.parsed()
    if report.status in FROZEN_STATES and report.snapshot:
        values = report.snapshot["values"]
        contributions = [
            Contribution(
                ReportingUnit(pk=m["unit_id"], code=m["unit"], name=m["name"], kind=m.get("kind", "")),
                m["form"],
                m["status"],
                m.get("values", {}),
            )
            for m in report.snapshot.get("contributions", [])
        ]
        own: dict[str, Number] | None = report.snapshot.get("own")
        live = False
    else:
        computed = compute_live(form, unit, period, report.manual_values or {})
        values, contributions, live = computed.values, computed.contributions, True
        own = computed.own
    days = deadline_days_for(form.level, unit.kind, form.deadline_days)
    return ReportView(
        form,
        spec,
        unit,
        period,
        report,
        values,
        contributions,
        approver_for(unit),
        deadline(period, days),
        live,
        own,
    )


def snapshot_of(view: ReportView) -> dict[str, Any]:
    return {
        "values": view.values,
        "own": view.own,
        "contributions": [
            {
                "unit_id": c.unit.pk,
                "unit": c.unit.code,
                "name": c.unit.name,
                "kind": c.unit.kind,
                "form": c.form_code,
                "status": c.status,
                "values": c.values,
            }
            for c in view.contributions
        ],
        "computed_at": timezone.now().isoformat(),
        "form_checksum": view.form.checksum,
    }


# --- per-unit layout of the district / provincial forms (biểu 4–8 BCH/BCT) ---------------------------------

OWN_ROW_SUFFIX = "tự thực hiện"


def per_unit_layout(spec: FormSpec) -> bool:
    """District/provincial forms whose single row sums the units below: printed one row per unit + total."""
    return (
        spec.level in ("district", "province")
        and len(spec.rows()) == 1
        and any(c.aggregate for c in spec.cells)
    )


@dataclass
class UnitRow:
    """One row of the official BCH/BCT grid: a unit below (trạm y tế, bệnh viện, TTYT…) or the upper unit's
    own facilities (``own``). ``values`` is {column id: value}; None = chưa có báo cáo được duyệt (missing),
    never a silent zero. The row id (API ``row``) is the unit code."""

    id: str
    unit: ReportingUnit
    status: str
    own: bool
    values: dict[str, Number] | None

    @property
    def missing(self) -> bool:
        return self.values is None

    @property
    def label(self) -> str:
        return f"{self.unit.name} ({OWN_ROW_SUFFIX})" if self.own else self.unit.name


def _row_of(spec: FormSpec, raw: Mapping[str, Number]) -> dict[str, Number]:
    """Cell values of the single row → {column id: value}, formulas evaluated on the row's own cells."""
    full = complete(spec, dict(raw))
    return {c.column: full.get(c.key, 0) for c in spec.cells}


def unit_rows(view: ReportView) -> list[UnitRow]:
    """Rows of a per-unit form: units below in code order (approved → their mapped values, otherwise
    missing), then the unit's own data. The total row (``view.values``) is the sum of these rows: it is
    computed as own data + approved reports below, which is exactly what the rows hold."""
    if not per_unit_layout(view.spec):
        return []
    merged: dict[str, UnitRow] = {}
    for c in view.contributions:
        row = merged.get(c.unit.code)
        if row is None:
            row = merged[c.unit.code] = UnitRow(c.unit.code, c.unit, c.status, False, None)
        elif c.status != row.status:
            row.status = f"{row.status}/{c.status}"
        if not c.missing:
            # a unit filing two mapped forms: one row, the sum of what its approved reports contribute
            base = row.values or {}
            add = _row_of(view.spec, c.values)
            row.values = {k: base.get(k, 0) + v for k, v in add.items()}
    own = view.own
    if own is None:  # snapshots frozen before the own part was stored: total minus the rows below
        below: dict[str, Number] = {}
        for c in view.contributions:
            if not c.missing:
                for k, v in c.values.items():
                    below[k] = below.get(k, 0) + v
        own = {
            c.key: view.values[c.key] - below.get(c.key, 0)
            for c in view.spec.cells
            if not c.formula and c.key in view.values
        }
    rows = sorted(merged.values(), key=lambda r: r.id)
    rows.append(UnitRow(view.unit.code, view.unit, view.status, True, _row_of(view.spec, own)))
    return rows


def timeline(report: ReportInstance) -> list[ReportTransition]:
    if report.pk is None:
        return []
    return list(report.transitions.select_related("actor", "actor_unit"))


def history_values(view: ReportView) -> list[dict[str, Number]]:
    """The unit's own frozen values for the same form in earlier periods (for outlier flags)."""
    earlier = [view.period.previous(n).start for n in range(1, HISTORY_PERIODS + 1)]
    rows = ReportInstance.objects.filter(
        form__code=view.form.code, unit=view.unit, period_start__in=earlier, status__in=FROZEN_STATES
    ).values_list("snapshot", flat=True)
    return [r["values"] for r in rows if r]


def outlier_flags(view: ReportView) -> dict[str, list[OutlierFlag]]:
    return all_outliers(view.values, history_values(view))


def actions_for(principal: Any, view: ReportView) -> list[str]:
    return workflow.allowed_actions(principal, status=view.status, unit=view.unit, approver=view.approver)


# --- lists and dashboards ---------------------------------------------------------------------------------


@dataclass
class StatusRow:
    unit: ReportingUnit
    form_code: str
    status: str
    submitted_at: datetime | None
    due: datetime
    late: bool
    report_id: int | None

    @property
    def status_label(self) -> str:
        return str(ReportStatus(self.status).label)


def status_board(
    principal: Any, root: ReportingUnit, period: Period, *, status: str = "", form_code: str = ""
) -> list[StatusRow]:
    """Every (unit, form) expected in `root`'s subtree for the period, with its state and timeliness.

    Expected = the unit's kind is listed in the form's unit_kinds; the subtree is the tree as it was on the
    period's first day (dated placements)."""
    if not within(principal, root.path):
        raise Http404("Không tìm thấy.")
    placed = visible_under(UnitPlacement.objects.on(period.start), root, lookup="path").values_list(
        "unit_id", flat=True
    )
    units = list(visible_to(ReportingUnit.objects.filter(pk__in=list(placed)), principal).order_by("path"))
    forms = [
        f
        for f in forms_in_force(period.start)
        if f.period_type == period.type and (not form_code or f.code == form_code)
    ]
    reports = {
        (r.unit_id, r.form_id): r
        for r in ReportInstance.objects.filter(period_start=period.start, form__in=forms, unit__in=units)
    }
    now = timezone.now()
    rows = []
    for unit in units:
        for f in forms:
            if unit.kind not in f.unit_kinds:
                continue
            rep = reports.get((unit.pk, f.pk))
            due = deadline(period, deadline_days_for(f.level, unit.kind, f.deadline_days))
            sub = rep.first_submitted_at if rep else None
            st = rep.status if rep else ReportStatus.DRAFT
            row = StatusRow(unit, f.code, st, sub, due, (sub or now) >= due, rep.pk if rep else None)
            if status == "late" and not row.late:
                continue
            if status and status != "late" and row.status != status:
                continue
            rows.append(row)
    return rows


def completeness(principal: Any, root: ReportingUnit, period: Period) -> dict[str, Any]:
    """Counts per form: expected, submitted (incl. approved), approved, on time, late (for charts)."""
    rows = status_board(principal, root, period)
    by_form: dict[str, dict[str, int]] = {}
    for r in rows:
        c = by_form.setdefault(
            r.form_code, {"expected": 0, "submitted": 0, "approved": 0, "on_time": 0, "late": 0}
        )
        c["expected"] += 1
        if r.status in FROZEN_STATES:
            c["submitted"] += 1
        if r.status in APPROVED:
            c["approved"] += 1
        if r.submitted_at and not r.late:
            c["on_time"] += 1
        if r.late:
            c["late"] += 1
    forms = sorted(by_form)
    return {
        "period": period.code,
        "unit": root.code,
        "forms": forms,
        "series": {
            k: [by_form[f][k] for f in forms]
            for k in ("expected", "submitted", "approved", "on_time", "late")
        },
        "late_units": sorted({r.unit.code for r in rows if r.late}),
    }


def report_list(principal: Any, *, period_start: date | None = None, status: str = "") -> Any:
    qs = visible_to(ReportInstance.objects.select_related("form", "unit"), principal)
    if period_start:
        qs = qs.filter(period_start=period_start)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-period_start", "unit__path", "form__code")


def approved_reports(principal: Any, period: Period, unit: ReportingUnit) -> list[ReportInstance]:
    """Approved reports of `unit`'s subtree for the period (for the DHIS2/ADX exports)."""
    qs = visible_to(ReportInstance.objects.select_related("form", "unit"), principal)
    return list(
        qs.filter(subtree_q("unit__path", unit), period_start=period.start, status__in=APPROVED).order_by(
            "unit__path", "form__code"
        )
    )


# --- boundary changes (R-ORG-01) --------------------------------------------------------------------------

BOUNDARY_DATE = date(2025, 7, 1)
SPLIT_RULE = (
    "Quy đổi sang đơn vị hành chính 2025: cộng báo cáo của mọi đơn vị cùng loại đã hoạt động trong kỳ và nay đặt "
    "tại xã mới (xã cũ nhập toàn bộ: cộng đủ). Xã cũ bị chia (Nhập một phần): toàn bộ số liệu của trạm cũ được "
    "tính cho xã mới mặc định — xã nhận trụ sở trạm (CommuneMapping.is_default), nơi trạm được đặt khi chuyển "
    "sang mô hình 2 cấp; các xã mới khác nhận một phần xã cũ đó không được cộng phần nào."
)


@dataclass
class Reaggregated:
    values: dict[str, Number]
    parts: list[tuple[ReportingUnit, str, str, bool]]  # (unit, how it maps, report status, counted)
    old_communes: list[tuple[str, str, bool]]  # (old commune, mapping kind, is default) from CommuneMapping
    rule: str = SPLIT_RULE


def reaggregate_to_2025(principal: Any, view: ReportView) -> Reaggregated | None:
    """A pre-2025 commune report re-aggregated into the 2025 commune where `view.unit` now sits (R-ORG-01).

    Units keep their history (dated placements); each unit is located in a 2025 commune (for a station of a
    split old commune: the default new commune of CommuneMapping). The re-aggregated value of a cell is the sum
    over the units of the form's kinds that existed on the period's first day and sit in that 2025 commune:
    frozen values where they submitted, live values otherwise. CommuneMapping lists the old communes merged
    into the new one, so the page can show which were split (docs/decisions/0021). Only units the principal
    sees are summed (R-SEC-01): a unit located in someone else's commune reveals nothing of theirs.
    """
    from mchis.places.models import CommuneMapping, MappingKind

    if view.form.level != "commune" or view.period.start >= BOUNDARY_DATE:
        return None
    existed = UnitPlacement.objects.on(view.period.start).values_list("unit_id", flat=True)
    units = list(
        visible_to(ReportingUnit.objects.all(), principal)
        .filter(pk__in=list(existed), admin_unit=view.unit.admin_unit, kind__in=view.form.unit_kinds)
        .order_by("code")
    )
    mappings = (
        CommuneMapping.objects.filter(new=view.unit.admin_unit).select_related("old").order_by("old__code")
    )
    totals: dict[str, Number] = {}
    parts = []
    for unit in units:
        sub = build_view(view.form, unit, view.period)
        parts.append((unit, "cùng xã mới", sub.status, True))
        for k, v in sub.values.items():
            totals[k] = totals.get(k, 0) + v
    old = [(m.old.name, str(MappingKind(m.kind).label), m.is_default) for m in mappings]
    return Reaggregated({c.key: totals.get(c.key, 0) for c in view.spec.cells}, parts, old)


def expected_outstanding(period: Period) -> list[tuple[ReportingUnit, FormDefinition, datetime]]:
    """System-wide (for the reminder job, not for users): (unit, form, deadline) not yet submitted."""
    forms = [f for f in forms_in_force(period.start) if f.period_type == period.type]
    kinds = {k for f in forms for k in f.unit_kinds}
    placed = UnitPlacement.objects.on(period.start).values_list("unit_id", flat=True)
    units = list(ReportingUnit.objects.filter(pk__in=list(placed), kind__in=kinds, active=True))
    done = set(
        ReportInstance.objects.filter(
            period_start=period.start, form__in=forms, status__in=FROZEN_STATES
        ).values_list("unit_id", "form_id")
    )
    return [
        (u, f, deadline(period, deadline_days_for(f.level, u.kind, f.deadline_days)))
        for u in units
        for f in forms
        if u.kind in f.unit_kinds and (u.pk, f.pk) not in done
    ]


LEVEL_ORDER = {"commune": 0, "district": 1, "province": 2, "network": 3}


def rollup(period: Period, root: ReportingUnit | None = None) -> dict[tuple[str, int], dict[str, Number]]:
    """Every form of every unit (in `root`'s subtree, or the nation) for one period, computed in bulk and
    summed bottom-up as if every report below were approved: {(form code, unit id): {cell: value}}.

    One GROUP BY statement per register per *form* for all units at once (not per unit), then an in-memory
    walk up the tree (as placed on the period's first day). For national overviews and the benchmark; the
    official upper-level reports still sum only approved reports (``compute_live``)."""
    placements = UnitPlacement.objects.on(period.start)
    if root is not None:
        placements = visible_under(placements, root, lookup="path")
    parent_of = dict(placements.values_list("unit_id", "parent_id"))
    kinds = dict(ReportingUnit.objects.filter(pk__in=list(parent_of)).values_list("pk", "kind"))
    children: dict[int, list[int]] = defaultdict(list)
    for uid, pid in parent_of.items():
        if pid is not None:
            children[pid].append(uid)
    forms = sorted(
        (f for f in forms_in_force(period.start) if f.period_type == period.type),
        key=lambda f: LEVEL_ORDER[f.level],
    )
    out: dict[tuple[str, int], dict[str, Number]] = {}
    own_by_form = _bulk_register_values(forms, kinds, period)
    for form in forms:
        spec: FormSpec = form.parsed()
        unit_ids = [u for u, k in kinds.items() if k in form.unit_kinds]
        if not unit_ids:
            continue
        own = own_by_form.get(form.code, {})
        sources: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for cell in spec.cells:
            for src in cell.aggregate:
                sources[src.form].append((src.cell, cell.key))
        # units filing the same form below others (district hospitals under a TTYT) must be done first
        unit_ids.sort(key=lambda u: -len(_path_of(u, parent_of)))
        for uid in unit_ids:
            totals = dict(own.get(uid, {}))
            for child in children.get(uid, []):
                for code, pairs in sources.items():
                    child_values = out.get((code, child))
                    if child_values is None:
                        continue
                    for child_cell, our_cell in pairs:
                        totals[our_cell] = totals.get(our_cell, 0) + child_values.get(child_cell, 0)
            out[(form.code, uid)] = complete(spec, totals)
    return out


def _bulk_register_values(
    forms: list[FormDefinition], kinds: dict[int, str], period: Period
) -> dict[str, dict[int, dict[str, Number]]]:
    """Own register values of every form, with the cells of all forms filed by the same unit kinds merged so
    each register is scanned once per group of forms (BCH4..8 share one statement per register)."""
    import dataclasses

    groups: dict[tuple[str, ...], list[FormDefinition]] = defaultdict(list)
    for form in forms:
        groups[tuple(sorted(form.unit_kinds))].append(form)
    result: dict[str, dict[int, dict[str, Number]]] = {}
    for unit_kinds, members in groups.items():
        unit_ids = [u for u, k in kinds.items() if k in unit_kinds]
        if not unit_ids:
            continue
        merged = []
        split: dict[str, tuple[str, str]] = {}
        for f in members:
            result[f.code] = {}
            for c in f.parsed().cells:
                if c.query is not None:
                    m = dataclasses.replace(c, row=f"{f.code}|{c.row}")
                    merged.append(m)
                    split[m.key] = (f.code, c.key)
        combined = dataclasses.replace(members[0].parsed(), cells=tuple(merged), raw={})
        for uid, cells in register_values(combined, unit_ids, period).items():
            for key, value in cells.items():
                code, original = split[key]
                result[code].setdefault(uid, {})[original] = value
    return result


def _path_of(uid: int, parent_of: Mapping[int, int | None]) -> list[int]:
    path: list[int] = []
    cur: int | None = uid
    while cur is not None and len(path) < 32:
        path.append(cur)
        cur = parent_of.get(cur)
    return path
