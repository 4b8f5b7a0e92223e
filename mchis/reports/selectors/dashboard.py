"""Lists and dashboards: which reports are expected, sent, approved, late (R-MCH-04)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.http import Http404
from django.utils import timezone

from mchis.core.principal import Principal
from mchis.core.scoping import subtree_q, visible_to, visible_under, within
from mchis.units.models import ReportingUnit, UnitPlacement

from ..models import FROZEN_STATES, FormDefinition, ReportInstance, ReportStatus
from ..periods import Period, deadline, deadline_days_for
from .forms import APPROVED, forms_in_force


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
    principal: Principal, root: ReportingUnit, period: Period, *, status: str = "", form_code: str = ""
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


def completeness(principal: Principal, root: ReportingUnit, period: Period) -> dict[str, Any]:
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


def report_list(principal: Principal, *, period_start: date | None = None, status: str = "") -> Any:
    qs = visible_to(ReportInstance.objects.select_related("form", "unit"), principal)
    if period_start:
        qs = qs.filter(period_start=period_start)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-period_start", "unit__path", "form__code")


def approved_reports(principal: Principal, period: Period, unit: ReportingUnit) -> list[ReportInstance]:
    """Approved reports of `unit`'s subtree for the period (for the DHIS2/ADX exports)."""
    qs = visible_to(ReportInstance.objects.select_related("form", "unit"), principal)
    return list(
        qs.filter(subtree_q("unit__path", unit), period_start=period.start, status__in=APPROVED).order_by(
            "unit__path", "form__code"
        )
    )


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


def approved_values(
    form_code: str, period: Period, root_path: str = ""
) -> list[tuple[ReportingUnit, dict[str, Any]]]:
    """System-wide (the public portal's publication, not users): the frozen values of every approved report of
    `form_code` for the period, under `root_path` ('' = the nation)."""
    qs = ReportInstance.objects.filter(
        form__code=form_code, period_start=period.start, status__in=APPROVED
    ).select_related("unit")
    if root_path:
        qs = qs.filter(unit__path__startswith=root_path)
    return [(r.unit, dict((r.snapshot or {}).get("values", {}))) for r in qs.order_by("unit__path")]


def expected_units(form_code: str, period: Period, root_path: str = "") -> list[str]:
    """System-wide: the paths of the active units expected to file `form_code` for the period (its coverage)."""
    forms = [f for f in forms_in_force(period.start) if f.code == form_code and f.period_type == period.type]
    if not forms:
        return []
    placed = UnitPlacement.objects.on(period.start).values_list("unit_id", flat=True)
    qs = ReportingUnit.objects.filter(pk__in=placed, kind__in=forms[0].unit_kinds, active=True)
    if root_path:
        qs = qs.filter(path__startswith=root_path)
    return list(qs.values_list("path", flat=True))
