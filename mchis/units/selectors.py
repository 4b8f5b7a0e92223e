"""Reads of the reporting-unit tree, now or as it was on a past date (R-ORG-02)."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from mchis.core.principal import Principal
from mchis.core.scoping import access, visible_to, visible_under

from .models import ReportingUnit, UnitPlacement


def units_under(unit: ReportingUnit, on: date | None = None) -> QuerySet[ReportingUnit]:
    """All units under `unit` (itself included).

    Now: one prefix query on the indexed `ReportingUnit.path`. On a past date: the units whose
    placement on that date lies under the unit's own placement on that date (the tree as it was).
    Empty when the unit did not exist on that date.
    """
    if on is None or on >= timezone.localdate():
        return ReportingUnit.objects.subtree_of(unit)
    placement = UnitPlacement.objects.on(on).filter(unit=unit).values_list("path", flat=True).first()
    if placement is None:
        return ReportingUnit.objects.none()
    return ReportingUnit.objects.filter(
        id__in=visible_under(UnitPlacement.objects.on(on), placement, lookup="path").values("unit_id")
    )


def _visible(principal: Principal) -> QuerySet[ReportingUnit]:
    """A system admin configures the whole tree; everyone else sees their own subtree (R-SEC-01)."""
    if principal.role == "system_admin" and principal.is_active:
        return ReportingUnit.objects.all()
    return visible_to(ReportingUnit.objects.all(), principal)


def unit_list(
    principal: Principal, *, under: ReportingUnit | None = None, on: date | None = None
) -> QuerySet[ReportingUnit]:
    """Units the principal may see (its own subtree), optionally under one unit and on a date."""
    qs = _visible(principal)
    if under is not None:
        qs = qs.filter(id__in=units_under(under, on).values("id"))
    return qs.select_related("parent", "admin_unit").order_by("path")


def unit_get(principal: Principal, code: str) -> ReportingUnit:
    """One unit inside the principal's jurisdiction by code, or 404."""
    try:
        return _visible(principal).select_related("parent", "admin_unit").get(code=code)
    except ReportingUnit.DoesNotExist as exc:
        raise Http404("Không tìm thấy đơn vị.") from exc


def unit_get_visible(principal: Principal, code: str) -> ReportingUnit:
    """The unit a request names (a `unit` parameter of a page or an API route), inside the principal's
    jurisdiction; missing and out-of-scope are the same 404, and the refusal is audited (core.scoping.access)."""
    return access(ReportingUnit.objects.all(), principal, code=code)


def unit_placements(unit: ReportingUnit) -> QuerySet[UnitPlacement]:
    """Every placement of the unit, oldest first (history of moves)."""
    return UnitPlacement.objects.filter(unit=unit).select_related("parent").order_by("valid_from")


def unit_path_labels(units: list[ReportingUnit]) -> dict[int, str]:
    """'Bộ Y tế › Sở Y tế A › …' for each unit, from the ids in its path (one query)."""
    ids = {int(part) for u in units for part in u.path.strip("/").split("/") if part.isdigit()}
    names = dict(ReportingUnit.objects.filter(id__in=ids).values_list("id", "name"))
    return {
        u.pk: " › ".join(names.get(int(p), "?") for p in u.path.strip("/").split("/") if p.isdigit())
        for u in units
    }
