"""Reads of the analytics store, always scoped (R-MCH-07): indicators, data elements, periods, units, values.

Public surface (the portal, issue 16, reads through these): ``indicator_list()``, ``element_list()``,
``indicator_values(codes=…, periods=…, units=…, approved_only=…)`` and ``analytics(principal, dx=…, pe=…,
ou=…, approved=…)`` (the DHIS2-shaped API answer is built from the last one).

Values come from the pre-rolled-up ``RollupValue`` rows (the unit and everything below it, current tree), so
one indicator × 34 provinces × 12 months reads a few thousand rows whatever the number of facilities.
An indicator's value over a period is Σ numerator / Σ denominator × factor over the period's months; a zero
denominator gives no value (``None``, shown "không xác định"), never an error or infinity.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from mchis.accounts.permissions import require
from mchis.core.errors import DomainError
from mchis.core.principal import Principal
from mchis.core.scoping import visible_to
from mchis.reports.selectors import forms_in_force
from mchis.units.models import ReportingUnit, UnitKind
from mchis.units.selectors import unit_get_visible

from .coverage import FORM as COVERAGE_FORM
from .coverage import NAMES as COVERAGE_NAMES
from .coverage import is_coverage
from .definitions import ELEMENT_FORM, Indicator, Term, catalog
from .models import Favorite, RollupValue
from .population import FORM, is_population
from .population import NAMES as POP_NAMES

MAX_CELLS = 50_000
MAX_ITEMS = 2_000  # per dimension
APPROVED_MARK = "APPROVED.any"


# --- indicators and data elements --------------------------------------------------------------------------


def indicator_list() -> list[Indicator]:
    """Every indicator (definitions as data, ``fixtures/indicators.json``), in file order."""
    return list(catalog().indicators)


def indicator_get(code: str) -> Indicator | None:
    return catalog().by_id.get(code)


@dataclass(frozen=True)
class DataElement:
    id: str
    name: str
    group: str  # the form code, or AN / RPT / DQ


@cache
def _element_names() -> tuple[DataElement, ...]:
    spec = catalog().spec
    cols = {c.id: c.label for c in spec.columns}
    rows = {r.id: r.label for s in spec.sections for r in s.rows}
    return tuple(
        DataElement(f"{ELEMENT_FORM}.{cell.key}", f"{rows[cell.row]} — {cols[cell.column]}", "AN")
        for cell in spec.cells
    )


def element_list(*, day: date | None = None) -> list[DataElement]:
    """Data elements: the analytics elements, then every cell of the monthly forms in force."""
    out = list(_element_names())
    out += [DataElement(e, name, FORM) for e, name in POP_NAMES.items()]
    out += [DataElement(e, name, COVERAGE_FORM) for e, name in COVERAGE_NAMES.items()]
    for form in forms_in_force(day or timezone.localdate()):
        if form.period_type != "monthly":
            continue
        spec = form.parsed()
        cols = {c.id: c.label for c in spec.columns}
        rows = {r.id: (r.no, r.label) for s in spec.sections for r in s.rows}
        for cell in spec.cells:
            no, label = rows.get(cell.row, ("", cell.row))
            name = f"{form.code} {no} {label} — {cols.get(cell.column, cell.column)}".replace("  ", " ")
            out.append(DataElement(f"{form.code}.{cell.key}", name, form.code))
    return out


# A report-cell element (``BCH4.T:7``) is stored as the final total of each unit (store.recompute_rollup, ADR 0077:
# the reports' bulk roll-up, each event once): it is read as it is, never re-summed from the forms below.


# --- periods -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodItem:
    id: str  # DHIS2 period id: 202601, 2026Q1, 2026
    label: str
    months: tuple[date, ...]

    @property
    def start(self) -> date:
        return self.months[0]


def add_months(day: date, n: int) -> date:
    m = day.year * 12 + day.month - 1 + n
    return date(m // 12, m % 12 + 1, 1)


def month_item(day: date) -> PeriodItem:
    return PeriodItem(f"{day:%Y%m}", f"Tháng {day:%m/%Y}", (day,))


def quarter_item(year: int, q: int) -> PeriodItem:
    first = date(year, 3 * q - 2, 1)
    return PeriodItem(f"{year}Q{q}", f"Quý {q}/{year}", tuple(add_months(first, i) for i in range(3)))


def year_item(year: int) -> PeriodItem:
    return PeriodItem(str(year), f"Năm {year}", tuple(date(year, m, 1) for m in range(1, 13)))


RELATIVE = (
    "THIS_MONTH",
    "LAST_MONTH",
    "LAST_3_MONTHS",
    "LAST_6_MONTHS",
    "LAST_12_MONTHS",
    "MONTHS_THIS_YEAR",
    "THIS_QUARTER",
    "LAST_QUARTER",
    "LAST_4_QUARTERS",
    "THIS_YEAR",
    "LAST_YEAR",
    "LAST_5_YEARS",
)
RELATIVE_LABELS = {
    "THIS_MONTH": "Tháng này",
    "LAST_MONTH": "Tháng trước",
    "LAST_3_MONTHS": "3 tháng qua",
    "LAST_6_MONTHS": "6 tháng qua",
    "LAST_12_MONTHS": "12 tháng qua",
    "MONTHS_THIS_YEAR": "Các tháng năm nay",
    "THIS_QUARTER": "Quý này",
    "LAST_QUARTER": "Quý trước",
    "LAST_4_QUARTERS": "4 quý qua",
    "THIS_YEAR": "Năm nay",
    "LAST_YEAR": "Năm trước",
    "LAST_5_YEARS": "5 năm qua",
}
_MONTH = re.compile(r"^(\d{4})-?(\d{2})\Z")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])\Z")
_YEAR = re.compile(r"^(\d{4})\Z")


def _relative(key: str, this: date) -> list[PeriodItem]:
    q = (this.month - 1) // 3 + 1
    quarters = [(this.year, q)]
    for _ in range(4):
        y, qq = quarters[-1]
        quarters.append((y, qq - 1) if qq > 1 else (y - 1, 4))
    table: dict[str, Any] = {
        "THIS_MONTH": lambda: [month_item(this)],
        "LAST_MONTH": lambda: [month_item(add_months(this, -1))],
        "LAST_3_MONTHS": lambda: [month_item(add_months(this, -i)) for i in range(3, 0, -1)],
        "LAST_6_MONTHS": lambda: [month_item(add_months(this, -i)) for i in range(6, 0, -1)],
        "LAST_12_MONTHS": lambda: [month_item(add_months(this, -i)) for i in range(12, 0, -1)],
        "MONTHS_THIS_YEAR": lambda: [month_item(date(this.year, m, 1)) for m in range(1, this.month + 1)],
        "THIS_QUARTER": lambda: [quarter_item(*quarters[0])],
        "LAST_QUARTER": lambda: [quarter_item(*quarters[1])],
        "LAST_4_QUARTERS": lambda: [quarter_item(*yq) for yq in reversed(quarters[1:5])],
        "THIS_YEAR": lambda: [year_item(this.year)],
        "LAST_YEAR": lambda: [year_item(this.year - 1)],
        "LAST_5_YEARS": lambda: [year_item(this.year - i) for i in range(5, 0, -1)],
    }
    return list(table[key]())


def parse_periods(text: str, *, today: date | None = None) -> list[PeriodItem]:
    """``pe`` items joined by ``;``: relative periods (LAST_12_MONTHS, THIS_YEAR, …), months (202601 or
    2026-01), quarters (2026Q1), years (2026). A period that starts after the current month is refused."""
    this = (today or timezone.localdate()).replace(day=1)
    out: list[PeriodItem] = []
    parts = [p.strip() for p in (text or "").split(";") if p.strip()]
    if not parts:
        raise DomainError(
            "Chưa chọn kỳ (pe), ví dụ LAST_12_MONTHS hoặc 202601.", field="pe", code="period_required"
        )
    for part in parts:
        key = part.upper()
        if key in RELATIVE:
            out += _relative(key, this)
            continue
        item: PeriodItem | None = None
        if m := _MONTH.match(key):
            if 1 <= int(m.group(2)) <= 12:
                item = month_item(date(int(m.group(1)), int(m.group(2)), 1))
        elif m := _QUARTER.match(key):
            item = quarter_item(int(m.group(1)), int(m.group(2)))
        elif m := _YEAR.match(key):
            item = year_item(int(m.group(1)))
        if item is None or item.start.year < 2000:
            raise DomainError(
                f"Kỳ '{part}' không hợp lệ: dùng tháng (202601), quý (2026Q1), năm (2026) hoặc kỳ tương đối "
                f"({', '.join(RELATIVE[:5])}, …).",
                field="pe",
                code="invalid_period",
            )
        if item.start > this:
            raise DomainError(
                f"Kỳ '{part}' ở tương lai: chỉ xem được đến tháng {this:%m/%Y}.",
                field="pe",
                code="future_period",
            )
        out.append(item)
    seen: set[str] = set()
    unique = [i for i in out if not (i.id in seen or seen.add(i.id))]  # type: ignore[func-returns-value]
    return [PeriodItem(i.id, i.label, tuple(m for m in i.months if m <= this)) for i in unique]


# --- units ---------------------------------------------------------------------------------------------------

UNIT_KEYWORDS = ("USER_ORGUNIT", "USER_ORGUNIT_CHILDREN", "USER_ORGUNIT_GRANDCHILDREN")


def roots_of(principal: Principal) -> list[ReportingUnit]:
    if principal.unit is not None:
        return [principal.unit]
    return list(visible_to(ReportingUnit.objects.filter(parent__isnull=True), principal).order_by("code"))


def _unknown_unit(code: str) -> DomainError:
    return DomainError(
        f"Không có đơn vị '{code}' trong phạm vi bạn được xem (kiểm tra mã đơn vị).",
        field="ou",
        code="unknown_unit",
    )


def resolve_units(principal: Principal, text: str) -> list[ReportingUnit]:
    """``ou`` items joined by ``;``: unit codes, USER_ORGUNIT(_CHILDREN/_GRANDCHILDREN), LEVEL-n (n = 1 the
    root, 2 the next level, …) and OU_GROUP-<kind> (e.g. OU_GROUP-doh: every Sở Y tế) under the named units or
    the user's unit. Every unit lies inside the principal's jurisdiction; an unknown or outside code is refused
    with the same message."""
    parts = [p.strip() for p in (text or "USER_ORGUNIT").split(";") if p.strip()] or ["USER_ORGUNIT"]
    explicit: list[ReportingUnit] = []
    selectors: list[str] = []
    for part in parts:
        key = part.upper()
        if key in UNIT_KEYWORDS or key.startswith(("LEVEL-", "OU_GROUP-")):
            selectors.append(part)
            continue
        try:
            explicit.append(unit_get_visible(principal, part))
        except Http404 as exc:
            raise _unknown_unit(part) from exc
    boundaries = explicit or roots_of(principal)
    out: list[ReportingUnit] = list(explicit)
    visible = visible_to(ReportingUnit.objects.all(), principal).filter(active=True)
    for sel in selectors:
        key = sel.upper()
        qs: Any
        if key == "USER_ORGUNIT":
            out += roots_of(principal)
            continue
        under = Q()
        for b in roots_of(principal) if key.startswith("USER_") else boundaries:
            under |= Q(path__startswith=b.path)
        if key == "USER_ORGUNIT_CHILDREN":
            qs = visible.filter(parent__in=roots_of(principal))
        elif key == "USER_ORGUNIT_GRANDCHILDREN":
            qs = visible.filter(parent__parent__in=roots_of(principal))
        elif key.startswith("LEVEL-"):
            level = key.removeprefix("LEVEL-")
            if not level.isdigit() or not 1 <= int(level) <= 12:
                raise DomainError(
                    f"'{sel}': cấp phải là LEVEL-1 … LEVEL-12.", field="ou", code="invalid_level"
                )
            qs = visible.filter(under, depth=int(level) - 1)
        else:
            kind = sel.split("-", 1)[1].lower()
            if kind not in UnitKind.values:
                raise DomainError(
                    f"'{sel}': loại đơn vị không có (ví dụ OU_GROUP-doh, OU_GROUP-ttyt, OU_GROUP-tyt).",
                    field="ou",
                    code="invalid_group",
                )
            qs = visible.filter(under, kind=kind)
        out += list(qs.order_by("path")[: MAX_ITEMS + 1])
    seen: set[int] = set()
    return [u for u in out if not (u.pk in seen or seen.add(u.pk))]  # type: ignore[func-returns-value]


# --- dx ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DxItem:
    id: str
    label: str
    indicator: Indicator | None = None
    col: str = "total"
    element: str = ""

    def terms(self, which: str) -> tuple[Term, ...]:
        if self.indicator is not None:
            return self.indicator.terms(which, self.col)
        return (Term(1, self.element),) if which == "numerator" else ()

    @property
    def factor(self) -> int:
        return self.indicator.factor if self.indicator else 1

    @property
    def approval_applies(self) -> bool:
        if self.indicator is not None:
            return self.indicator.approval_applies
        return not self.element.startswith(("RPT.", "DQ.", "POP."))


AGE_LABELS = {
    "a10_14": "10–14 tuổi",
    "a15_19": "15–19 tuổi",
    "a20p": "20 tuổi trở lên",
    "a30_49": "30–49 tuổi",
}


def parse_dx(text: str) -> list[DxItem]:
    """``dx`` items joined by ``;``: an indicator id (``ANC4``), an indicator with a disaggregation
    (``ANC4.a15_19``) or a data element (``AN.DLV:total``, ``BCX3.I.5:total``)."""
    parts = [p.strip() for p in (text or "").split(";") if p.strip()]
    if not parts:
        raise DomainError("Chưa chọn chỉ số hoặc phần tử dữ liệu (dx).", field="dx", code="dx_required")
    names: dict[str, str] = {}
    out: list[DxItem] = []
    for part in parts:
        base, _, col = part.partition(".")
        ind = indicator_get(base)
        if ind is not None and (not col or col in ind.disaggregations):
            label = f"{ind.name} ({AGE_LABELS.get(col, col)})" if col else ind.name
            out.append(DxItem(part, label, ind, col or "total"))
            continue
        names = names or {e.id: e.name for e in element_list()}  # only when a data element is named
        if part in names:
            out.append(DxItem(part, names[part], element=part))
        else:
            raise DomainError(
                f"Không có chỉ số hoặc phần tử dữ liệu '{part}' (xem GET /api/v1/indicators).",
                field="dx",
                code="unknown_indicator",
            )
    return out


# --- values --------------------------------------------------------------------------------------------------


@dataclass
class Row:
    dx: str
    pe: str
    ou: str
    value: float | None
    numerator: float | None
    denominator: float | None
    factor: int


@dataclass
class Result:
    dx: list[DxItem]
    pe: list[PeriodItem]
    ou: list[ReportingUnit]
    approved: bool
    rows: list[Row] = field(default_factory=list)

    def lookup(self) -> dict[tuple[str, str, str], Row]:
        return {(r.dx, r.pe, r.ou): r for r in self.rows}


def check_size(n_dx: int, n_pe: int, n_ou: int) -> None:
    cells = n_dx * n_pe * n_ou
    if cells > MAX_CELLS or max(n_dx, n_pe, n_ou) > MAX_ITEMS:
        raise DomainError(
            f"Lựa chọn quá lớn: {n_dx} chỉ số × {n_pe} kỳ × {n_ou} đơn vị = {cells:,} ô; tối đa {MAX_CELLS:,} ô "
            f"(và {MAX_ITEMS:,} mục mỗi chiều). Hãy chọn ít kỳ hoặc ít đơn vị hơn.".replace(",", "."),
            field="ou",
            code="selection_too_large",
        )


def compute(dx: list[DxItem], pe: list[PeriodItem], ou: list[ReportingUnit], *, approved: bool) -> Result:
    """The values of every (dx, pe, ou) from the roll-up rows (no scoping here: callers resolve `ou` inside
    the principal's jurisdiction)."""
    check_size(len(dx), len(pe), len(ou))
    result = Result(dx, pe, ou, approved)
    months = sorted({m for p in pe for m in p.months})
    expanded: dict[str, tuple[Term, ...]] = {}
    for item in dx:
        for which in ("numerator", "denominator"):
            for t in item.terms(which):
                expanded.setdefault(t.element, (Term(1, t.element),))
    stored = {t.element for terms in expanded.values() for t in terms} | {APPROVED_MARK}
    column = "approved" if approved else "provisional"
    data: dict[tuple[int, str, date], float] = defaultdict(float)
    if months and ou:
        for node, element, month, stored_value in RollupValue.objects.filter(
            node_id__in=[u.pk for u in ou], element__in=sorted(stored), month__in=months
        ).values_list("node_id", "element", "month", column):
            data[(node, element, month)] = stored_value

    this_month = timezone.localdate().replace(day=1)

    def over(element: str, node: int, period: PeriodItem) -> float:
        if is_coverage(element):  # a stock at the period's end: its last month up to now (approved: approved)
            ends = [m for m in period.months if m <= this_month]
            if approved:
                ends = [m for m in ends if data.get((node, APPROVED_MARK, m))]
            return data.get((node, element, ends[-1]), 0.0) if ends else 0.0
        values = [data.get((node, element, m), 0.0) for m in period.months]
        if is_population(element):  # a stock: the period's mean over its months with a population, not a sum
            held = [v for v in values if v]
            return sum(held) / len(held) if held else 0.0
        return sum(values)

    def total(terms: tuple[Term, ...], node: int, period: PeriodItem) -> float:
        return sum(
            t.sign * s.sign * over(s.element, node, period) for t in terms for s in expanded[t.element]
        )

    for item in dx:
        num_terms, den_terms = item.terms("numerator"), item.terms("denominator")
        for period in pe:
            for unit in ou:
                if (
                    approved
                    and item.approval_applies
                    and not any(data.get((unit.pk, APPROVED_MARK, m)) for m in period.months)
                ):
                    result.rows.append(Row(item.id, period.id, unit.code, None, None, None, item.factor))
                    continue
                num = total(num_terms, unit.pk, period)
                den = total(den_terms, unit.pk, period) if den_terms else None
                value: float | None
                if den is None:
                    value = num * item.factor
                elif den == 0:
                    value = None  # không xác định
                else:
                    value = round(num / den * item.factor, 2)
                result.rows.append(Row(item.id, period.id, unit.code, value, num, den, item.factor))
    return result


def analytics(principal: Principal, *, dx: str, pe: str, ou: str = "", approved: bool = True) -> Result:
    """The DHIS2-style query of the API and the pivot page, inside the principal's jurisdiction."""
    require(principal, "analytics.view")
    items = parse_dx(dx)
    periods = parse_periods(pe)
    check_size(len(items), len(periods), 1)
    units = resolve_units(principal, ou)
    return compute(items, periods, units, approved=approved)


def indicator_values(
    *,
    codes: Iterable[str],
    periods: Iterable[str],
    units: Iterable[str],
    approved_only: bool = True,
    principal: Principal | None = None,
) -> list[Row]:
    """Values of indicators / data elements (codes as in ``dx``) for periods (as in ``pe``) and unit codes,
    for other apps (the public portal reads approved aggregates: ``approved_only=True``). With a principal the
    units must lie in its jurisdiction; without one (public aggregate statistics) any active unit may be named."""
    items = parse_dx(";".join(codes))
    pe = parse_periods(";".join(periods))
    codes_ = [c for c in units if c]
    if principal is not None:
        ou = resolve_units(principal, ";".join(codes_))
    else:
        found = {u.code: u for u in ReportingUnit.objects.filter(code__in=codes_, active=True)}
        missing = [c for c in codes_ if c not in found]
        if missing:
            raise _unknown_unit(missing[0])
        ou = [found[c] for c in codes_]
    return compute(items, pe, ou, approved=approved_only).rows


NON_REPORTING_KINDS = ("ubnd_xa", "child_protection")  # they file no health report: left out of drill-downs


def children_of(principal: Principal, unit: ReportingUnit) -> list[ReportingUnit]:
    """Units below `unit` for a drill-down: its children that report (a commune committee files no health
    report), descending through a level that has a single such child (Sở Y tế → CDC → the TTYT)."""
    for _ in range(4):
        kids = list(
            visible_to(ReportingUnit.objects.filter(parent=unit, active=True), principal)
            .exclude(kind__in=NON_REPORTING_KINDS)
            .order_by("name")
        )
        if len(kids) != 1:
            return kids
        grand = visible_to(ReportingUnit.objects.filter(parent=kids[0], active=True), principal).exclude(
            kind__in=NON_REPORTING_KINDS
        )
        if not grand.exists():
            return kids
        unit = kids[0]
    return kids


def provinces(principal: Principal) -> list[ReportingUnit]:
    """The province health departments (Sở Y tế) the principal sees, with their 2025 province."""
    roots = roots_of(principal)
    under = Q()
    for r in roots:
        under |= Q(path__startswith=r.path)
    qs = visible_to(ReportingUnit.objects.filter(under, kind=UnitKind.DOH, active=True), principal)
    return list(qs.select_related("admin_unit").order_by("name"))


# --- favourites ----------------------------------------------------------------------------------------------


def favorites_for(principal: Principal) -> list[Favorite]:
    """The principal's own favourites and those shared with its unit."""
    require(principal, "analytics.view")
    own = Q(owner_id=getattr(principal, "pk", None))
    shared = Q(shared=True, unit_id=getattr(principal.unit, "pk", None))
    return list(visible_to(Favorite.objects.all(), principal).filter(own | shared).select_related("owner"))


def favorite_get(principal: Principal, favorite_id: int) -> Favorite:
    for fav in favorites_for(principal):
        if fav.pk == favorite_id:
            return fav
    raise Http404("Không tìm thấy.")


def units_for_picker(
    principal: Principal, roots: list[ReportingUnit], *, depth: int = 2
) -> list[ReportingUnit]:
    """The principal's own units and two levels below (the pivot's unit picker; deeper units by keyword)."""
    under = Q()
    for r in roots:
        under |= Q(path__startswith=r.path, depth__lte=r.depth + depth)
    if not roots:
        return []
    qs = visible_to(ReportingUnit.objects.filter(under, active=True), principal)
    return list(qs.order_by("path")[:1000])


# --- approved values for other apps (the public portal) ------------------------------------------------------


def approved_values(items: list[DxItem], periods: list[PeriodItem], units: list[ReportingUnit]) -> list[Row]:
    """The *approved* values of items × periods × units (``compute(approved=True)``), read in batches that stay
    under the size limits: public aggregate statistics, no principal (the portal publishes them, issue 16).
    A unit-period without approved data gives a row with no value and no numerator."""
    rows: list[Row] = []
    step = max(1, min(MAX_ITEMS, MAX_CELLS // max(1, len(items))))
    for period in periods:
        for i in range(0, len(units), step):
            rows += compute(items, [period], units[i : i + step], approved=True).rows
    return rows


def reporting_units(months: Iterable[date], root_path: str = "") -> list[tuple[str, date, bool]]:
    """(unit path, month, approved) for every unit due to file a monthly report in these months under
    `root_path` (its ``RPT.expected`` count), approved when its data of the month are (``APPROVED.any``)."""
    from .models import UnitMonthValue

    base = UnitMonthValue.objects.filter(month__in=list(months))
    if root_path:
        base = base.filter(unit__path__startswith=root_path)
    approved = set(
        base.filter(element=APPROVED_MARK, approved__gt=0).values_list("unit_id", "month").iterator()
    )
    due = base.filter(element="RPT.expected", provisional__gt=0).values_list("unit_id", "unit__path", "month")
    return [(path, month, (uid, month) in approved) for uid, path, month in due.iterator()]
