"""The official per-unit layout of the district / provincial forms (biểu 4–8 BCH/BCT)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mchis.units.models import ReportingUnit

from ..compute import Number, complete
from ..definitions import FormSpec
from .duplicates import ROW_ID as DUP_ROW_ID
from .duplicates import ROW_LABEL as DUP_ROW_LABEL
from .view import ReportView

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
    title: str = ""  # a row that is not a unit (the cross-facility duplicates)

    @property
    def missing(self) -> bool:
        return self.values is None

    @property
    def label(self) -> str:
        if self.title:
            return self.title
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
    if any(view.duplicates.values.values()):  # one event recorded by two facilities: out of the total once
        taken = _row_of(view.spec, view.duplicates.values)
        rows.append(
            UnitRow(DUP_ROW_ID, view.unit, "", False, {k: -v for k, v in taken.items()}, DUP_ROW_LABEL)
        )
    return rows
