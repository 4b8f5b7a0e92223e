"""``report_view`` is the one way to look at a report: it resolves the form version in force for the period,
the unit (inside the principal's jurisdiction, else 404), the instance (or an unsaved draft), and the values:
frozen snapshot once submitted, otherwise live from the registers plus the approved reports of the units
below (tổng hợp từ báo cáo đã duyệt của tuyến dưới) and the list of units still missing."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.http import Http404
from django.utils import timezone

from mchis.core.principal import Principal
from mchis.units.models import ReportingUnit
from mchis.units.selectors import unit_get_visible

from .. import workflow
from ..checks import OutlierFlag, all_outliers
from ..compute import Number, complete, register_values
from ..definitions import FormSpec
from ..models import FROZEN_STATES, FormDefinition, ReportInstance, ReportTransition
from ..periods import Period, deadline, deadline_days_for, parse_period
from . import residents as other_csyt
from .consistency import Disagreement, checks_registers, register_disagreements
from .duplicates import BASIS as DUPLICATES_BASIS
from .duplicates import Duplicates, cross_facility_duplicates
from .forms import APPROVED, approver_for, children_on, form_in_force, forms_in_force

HISTORY_PERIODS = 24
COMMUNE_BASIS = (
    "Theo nơi cư trú: sự kiện trạm thực hiện (Tại TYT), ngoài cơ sở y tế (Ngoài CSYT) và sự kiện của người dân "
    "trong xã tại cơ sở khác (CSYT khác: trạm ghi nhận, hoặc lấy từ sổ của cơ sở đã phục vụ theo mã xã nơi cư trú)."
)


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
    duplicates: Duplicates = field(default_factory=Duplicates)
    # derived "CSYT khác" events inside `values` (a commune's own; above: those no total has taken out yet)
    residents: list[other_csyt.Resident] = field(default_factory=list)

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
    # a commune's "CSYT khác": its residents' events that other facilities recorded (ADR 0047)
    derived = other_csyt.resident_events(spec, unit, period)
    for key, value in other_csyt.added(derived).items():
        totals[key] = totals.get(key, 0) + value
    contributions = _contributions(spec, unit, period)
    for contrib in contributions:
        for key, value in contrib.values.items():
            totals[key] = totals.get(key, 0) + value
    # one event recorded by a station (its resident, "CSYT khác", typed or derived) and by the facility that
    # served her: once, at the lowest total that counts both
    below = other_csyt.below(spec, contributions, period) if contributions else []
    duplicates, handed_up = cross_facility_duplicates(spec, unit, period, contributions, below)
    for key, value in duplicates.values.items():
        totals[key] = totals.get(key, 0) - value
    return Computed(complete(spec, totals), own, contributions, duplicates, derived + handed_up)


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
    duplicates: Duplicates = field(default_factory=Duplicates)  # events counted once across facilities
    residents: list[other_csyt.Resident] = field(default_factory=list)  # derived "CSYT khác" (Computed)

    @property
    def basis(self) -> str:
        """What the total counts (issue 12.3): shown on the page next to the total."""
        return DUPLICATES_BASIS if self.spec.level in ("district", "province") else COMMUNE_BASIS

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


def resolve_unit(principal: Principal, unit_code: str) -> ReportingUnit:
    return unit_get_visible(principal, unit_code)


def report_view(
    principal: Principal, form_code: str, unit_code: str, period_text: str, *, lock: bool = False
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
        duplicates = Duplicates.from_snapshot(report.snapshot.get("duplicates"))
        derived = other_csyt.from_snapshot(report.snapshot.get("residents"))
        live = False
    else:
        computed = compute_live(form, unit, period, report.manual_values or {})
        values, contributions, live = computed.values, computed.contributions, True
        own, duplicates, derived = computed.own, computed.duplicates, computed.residents
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
        duplicates,
        derived,
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
        "duplicates": view.duplicates.as_snapshot(),
        "residents": other_csyt.as_snapshot(view.residents),
        "computed_at": timezone.now().isoformat(),
        "form_checksum": view.form.checksum,
    }


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


def actions_for(principal: Principal, view: ReportView) -> list[str]:
    return workflow.allowed_actions(principal, status=view.status, unit=view.unit, approver=view.approver)


def disagreements(view: ReportView) -> list[Disagreement]:
    """The register-agreement rule for the unit's own registers, on forms that count across two registers;
    only while the report is live (a frozen report keeps the warnings it was sent with)."""
    if not view.live or view.period.type != "monthly" or not checks_registers(view.spec):
        return []
    return register_disagreements(view.unit.pk, view.period)
