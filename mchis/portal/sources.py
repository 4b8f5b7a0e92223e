"""Where published values come from, read once at publish (or revision) time: the analytics store's *approved*
values (issue 15), rolled up per area of the reporting tree - never report cells, never the registers.

Areas: the nation (the roll-up of the root of the tree, the Ministry), a province (the Sở Y tế's subtree), a
district (a TTYT's subtree) and, only if the disclosure rules allow it, a commune station. For each area and
period (a month, or a year over its published months) and each statistic: the analytics value with the
numerator and denominator counts behind it (``analytics.selectors.approved_values``: Σ numerator / Σ
denominator × factor, the one place of that arithmetic), and how many units were due to report and how many of
them have approved data (``analytics.selectors.reporting_units``). Nothing else of the tree is copied: an area
is its code, name, level, province and path.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from mchis.analytics.selectors import PeriodItem, approved_values, reporting_units
from mchis.units.models import ReportingUnit, UnitKind

from .statistics import Statistic

AREA_KINDS = {UnitKind.DOH: "province", UnitKind.TTYT: "district", UnitKind.TYT: "commune"}
NATIONAL = "VN"
ONE_DECIMAL = Decimal("0.1")


@dataclass(frozen=True)
class Value:
    """One statistic's approved figure for one area and period, as analytics computes it."""

    value: Decimal | None  # the analytics value at the portal's precision (one decimal); None = undefined
    numerator: int
    denominator: int | None  # None for a count


@dataclass
class Area:
    level: str
    code: str
    name: str
    province_code: str
    path: str
    parent: str  # the area code of the level above
    values: dict[str, Value] = field(default_factory=dict)  # statistic key -> its figure
    counts: dict[str, int] = field(default_factory=dict)  # count key (Statistic.count_key) -> approved count
    approved: int = 0  # units due to report whose data of the period are approved
    expected: int = 0  # units due to report

    def copy(self) -> Area:
        return Area(self.level, self.code, self.name, self.province_code, self.path, self.parent)


def province_code_of(unit: ReportingUnit) -> str:
    place = unit.admin_unit
    while place.level != "province" and place.parent is not None:
        place = place.parent
    return str(place.code)


def months_by_year(months: list[str]) -> dict[str, list[str]]:
    years: dict[str, list[str]] = defaultdict(list)
    for m in sorted(set(months)):
        years[m[:4]].append(m)
    return dict(years)


def first_day(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


def national_node() -> ReportingUnit | None:
    """The root of the reporting tree (the Ministry): its roll-up is the nation's figure."""
    roots = ReportingUnit.objects.filter(parent__isnull=True)
    return roots.filter(kind=UnitKind.MINISTRY).order_by("path").first() or roots.order_by("path").first()


def _areas(levels: set[str], root_path: str) -> list[tuple[Area, ReportingUnit]]:
    """The areas of the wanted levels (and the provinces, parents of the district tables) under `root_path`."""
    out: list[tuple[Area, ReportingUnit]] = []
    if not root_path and "national" in levels and (root := national_node()) is not None:
        out.append((Area("national", NATIONAL, "Toàn quốc", "", "", ""), root))
    kinds = [k for k, lvl in AREA_KINDS.items() if lvl in levels or lvl == "province"]
    units = list(
        ReportingUnit.objects.filter(kind__in=kinds, path__startswith=root_path)
        .select_related("admin_unit", "admin_unit__parent", "admin_unit__parent__parent")
        .order_by("path")
    )
    by_id = {u.pk: u for u in units}
    codes: dict[int, str] = {}
    for unit in units:  # ordered by path: a unit's area ancestors come first
        level = AREA_KINDS[UnitKind(unit.kind)]
        above = [int(p) for p in unit.path.strip("/").split("/")[:-1] if p and int(p) in codes]
        parent = codes[above[-1]] if above else NATIONAL
        province = next((codes[a] for a in above if by_id[a].kind == UnitKind.DOH), "")
        if level == "province":
            province = province_code_of(unit)
            code = province
            name = unit.admin_unit.name if unit.admin_unit.level == "province" else unit.name
        else:
            code, name = unit.code, unit.name
        codes[unit.pk] = code
        out.append((Area(level, code, name, province, unit.path, parent), unit))
    return out


def area_values(
    stats: list[Statistic], levels: list[str], months: list[str], root_path: str = ""
) -> dict[str, dict[str, Area]]:
    """{period: {area code: Area}} for each month and each year (over its chosen months), from the approved
    values of the analytics store. Call it with the store current (``analytics.store.recompute_pending``)."""
    areas = _areas(set(levels), root_path)
    periods = [PeriodItem(m, m, (first_day(m),)) for m in months]
    periods += [PeriodItem(y, y, tuple(first_day(m) for m in ms)) for y, ms in months_by_year(months).items()]
    by_period: dict[str, dict[str, Area]] = {p.id: {a.code: a.copy() for a, _ in areas} for p in periods}
    code_of = {unit.code: area.code for area, unit in areas}
    items = [s.item() for s in stats]
    for row in approved_values(items, periods, [unit for _, unit in areas]):
        if row.numerator is None:  # no approved data of the area in the period
            continue
        area = by_period[row.pe][code_of[row.ou]]
        stat = next(s for s in stats if s.key == row.dx)
        num = round(row.numerator)
        den = None if row.denominator is None else round(row.denominator)
        value = None if row.value is None else Decimal(str(row.value)).quantize(ONE_DECIMAL, ROUND_HALF_UP)
        area.values[stat.key] = Value(value, num, den)
        area.counts[stat.count_key("numerator")] = num
        if den is not None:
            area.counts[stat.count_key("denominator")] = den
    # coverage: units due to report, and those with approved data, counted in every area above them
    by_path = {area.path: area.code for area, _ in areas if area.path}
    national = any(area.level == "national" for area, _ in areas)
    for path, month, approved in reporting_units([first_day(m) for m in months], root_path):
        period_codes = (f"{month:%Y-%m}", f"{month:%Y}")
        ancestors = [by_path[p] for p in _prefixes(path) if p in by_path]
        if national:
            ancestors.append(NATIONAL)
        for pc in period_codes:
            for code in ancestors:
                area = by_period[pc][code]
                area.expected += 1
                area.approved += int(approved)
    return by_period


def _prefixes(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
