"""Form versions in force and the unit tree as reports see it (who files what, who approves, who is below)."""

from __future__ import annotations

from datetime import date

from django.http import Http404

from mchis.units.models import ReportingUnit, UnitPlacement

from .. import workflow
from ..models import FormDefinition, ReportStatus

APPROVED = (ReportStatus.APPROVED, ReportStatus.UNAPPROVAL_REQUESTED)


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
