"""Where published values come from, read once at publish (or revision) time: the frozen values of approved
reports (reports.selectors.approved_values), summed per area of the reporting tree.

Areas: the nation (every approved report), a province (the Sở Y tế's subtree), a district (a TTYT's subtree)
and, only if the disclosure rules allow it, a commune station. Nothing else of the tree is copied: an area is
its code, name, level, province and path.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from mchis.reports.periods import parse_period
from mchis.reports.selectors import approved_values, expected_units
from mchis.units.models import ReportingUnit, UnitKind

from .statistics import FORM

AREA_KINDS = {UnitKind.DOH: "province", UnitKind.TTYT: "district", UnitKind.TYT: "commune"}
NATIONAL = "VN"


@dataclass
class Area:
    level: str
    code: str
    name: str
    province_code: str
    path: str
    parent: str  # the area code of the level above
    cells: dict[str, int] = field(default_factory=dict)
    approved: int = 0
    expected: int = 0


def province_code_of(unit: ReportingUnit) -> str:
    place = unit.admin_unit
    while place.level != "province" and place.parent is not None:
        place = place.parent
    return str(place.code)


def area_values(month: str, cells: set[str], root_path: str = "") -> dict[str, Area]:
    """{area code: Area} for one month: the sum of `cells` over the approved reports under each area."""
    period = parse_period(month)
    reports = approved_values(FORM, period, root_path)
    ancestors = {int(p) for unit, _ in reports for p in unit.path.strip("/").split("/")}
    expected = expected_units(FORM, period, root_path)
    ancestors |= {int(p) for path in expected for p in path.strip("/").split("/")}
    units = {
        u.pk: u
        for u in ReportingUnit.objects.filter(pk__in=ancestors, kind__in=list(AREA_KINDS)).select_related(
            "admin_unit", "admin_unit__parent"
        )
    }
    areas: dict[str, Area] = {}
    national = Area("national", NATIONAL, "Toàn quốc", "", "", "")
    if not root_path:
        areas[NATIONAL] = national

    def chain(path: str) -> list[Area]:
        out = [national] if not root_path else []
        province = ""
        parent = NATIONAL
        for part in path.strip("/").split("/"):
            unit = units.get(int(part))
            if unit is None:
                continue
            level = AREA_KINDS[UnitKind(unit.kind)]
            if level == "province":
                province = province_code_of(unit)
                code, name = (
                    province,
                    unit.admin_unit.name if unit.admin_unit.level == "province" else unit.name,
                )
            else:
                code, name = unit.code, unit.name
            area = areas.get(code)
            if area is None:
                area = areas[code] = Area(level, code, name, province, unit.path, parent)
            out.append(area)
            parent = code
        return out

    for path in expected:
        for area in chain(path):
            area.expected += 1
    for unit, values in reports:
        for area in chain(unit.path):
            area.approved += 1
            for cell in cells:
                area.cells[cell] = area.cells.get(cell, 0) + int(values.get(cell, 0) or 0)
    return areas


def months_by_year(months: list[str]) -> dict[str, list[str]]:
    years: dict[str, list[str]] = defaultdict(list)
    for m in sorted(set(months)):
        years[m[:4]].append(m)
    return dict(years)
