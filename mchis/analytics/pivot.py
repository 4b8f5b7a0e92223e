"""Arranging an analytics result into a pivot table (bảng tổng hợp): each dimension (dx, pe, ou) on rows,
columns or the filter; totals; sorting; chart series. Pure: works on ``selectors.Result``.

Totals and filter items are aggregated as the indicator itself is: Σ numerators / Σ denominators × factor
(never an average of ratios); cells of different indicators are never added (their total stays empty).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mchis.core.errors import DomainError

from .selectors import Result, Row

DIMENSIONS = ("dx", "pe", "ou")
DIMENSION_LABELS = {"dx": "Chỉ số", "pe": "Kỳ", "ou": "Đơn vị"}


@dataclass
class Cell:
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    dx: str = ""


@dataclass
class Grid:
    rows_dim: str
    cols_dim: str
    filter_dim: str
    row_items: list[tuple[str, str]]
    col_items: list[tuple[str, str]]
    filter_items: list[tuple[str, str]]
    cells: list[list[Cell]]
    row_totals: list[Cell] = field(default_factory=list)
    col_totals: list[Cell] = field(default_factory=list)
    grand: Cell | None = None

    @property
    def body(self) -> list[tuple[tuple[str, str], list[Cell], Cell | None]]:
        totals: list[Cell | None] = list(self.row_totals) or [None] * len(self.row_items)
        return list(zip(self.row_items, self.cells, totals, strict=True))


def combine(rows: list[Row], factors: dict[str, int]) -> Cell:
    """Several rows of the same indicator → one value (Σ num / Σ den × factor); mixed indicators → empty."""
    if not rows:
        return Cell(None)
    dxs = {r.dx for r in rows}
    if len(dxs) > 1:
        return Cell(None)
    dx = rows[0].dx
    if any(r.numerator is None for r in rows):  # not approved somewhere: nothing to add up honestly
        if len(rows) == 1:
            return Cell(None, dx=dx)
        rows = [r for r in rows if r.numerator is not None]
        if not rows:
            return Cell(None, dx=dx)
    num = sum(r.numerator or 0 for r in rows)
    dens = [r.denominator for r in rows]
    factor = factors.get(dx, 1)
    if all(d is None for d in dens):
        return Cell(num * factor, num, None, dx)
    den = sum(d or 0 for d in dens)
    return Cell(round(num / den * factor, 2) if den else None, num, den, dx)


def arrange(
    result: Result, *, rows: str = "ou", cols: str = "pe", sort: str = "", totals: bool = True
) -> Grid:
    if rows not in DIMENSIONS or cols not in DIMENSIONS or rows == cols:
        raise DomainError("Hàng và cột phải là hai chiều khác nhau (chỉ số, kỳ, đơn vị).", field="rows")
    filt = next(d for d in DIMENSIONS if d not in (rows, cols))
    items = {
        "dx": [(d.id, d.label) for d in result.dx],
        "pe": [(p.id, p.label) for p in result.pe],
        "ou": [(u.code, u.name) for u in result.ou],
    }
    if filt == "dx" and len(result.dx) > 1:
        raise DomainError(
            "Nhiều chỉ số không cộng được với nhau: đặt chỉ số vào hàng hoặc cột, hoặc chỉ chọn một chỉ số.",
            field="filter",
            code="dx_in_filter",
        )
    factors = {d.id: d.factor for d in result.dx}
    index: dict[tuple[str, str], list[Row]] = {}
    for r in result.rows:
        key = {"dx": r.dx, "pe": r.pe, "ou": r.ou}
        index.setdefault((key[rows], key[cols]), []).append(r)
    row_items, col_items = items[rows], items[cols]
    cells = [[combine(index.get((ri, ci), []), factors) for ci, _ in col_items] for ri, _ in row_items]
    grid = Grid(rows, cols, filt, row_items, col_items, items[filt], cells)
    if totals:
        grid.row_totals = [
            combine([x for ci, _ in col_items for x in index.get((ri, ci), [])], factors)
            for ri, _ in row_items
        ]
        grid.col_totals = [
            combine([x for ri, _ in row_items for x in index.get((ri, ci), [])], factors)
            for ci, _ in col_items
        ]
        grid.grand = combine(result.rows, factors)
    if sort in ("asc", "desc"):

        def value_of(i: int) -> float | None:
            if totals:
                return grid.row_totals[i].value
            return grid.cells[i][0].value if grid.cells[i] else None

        known = sorted(
            (i for i in range(len(row_items)) if value_of(i) is not None),
            key=lambda i: value_of(i) or 0.0,
            reverse=sort == "desc",
        )
        order = known + [i for i in range(len(row_items)) if value_of(i) is None]  # "không xác định" last
        grid.row_items = [row_items[i] for i in order]
        grid.cells = [cells[i] for i in order]
        if totals:
            grid.row_totals = [grid.row_totals[i] for i in order]
    return grid


def chart_data(grid: Grid, kind: str) -> dict[str, Any]:
    """What the page's ECharts island draws: categories = the row items, one series per column item."""
    return {
        "kind": kind,
        "categories": [label for _, label in grid.row_items],
        "series": [
            {"name": label, "data": [row[j].value for row in grid.cells]}
            for j, (_, label) in enumerate(grid.col_items)
        ],
    }


def export_value(cell: Cell | None) -> Any:
    """A cell for CSV/Excel: a number (whole numbers as integers), "không xác định", or empty for a total that
    would add different indicators."""
    if cell is None or not cell.dx:
        return ""
    if cell.value is None:
        return "không xác định"
    return int(cell.value) if float(cell.value).is_integer() else cell.value


def table_rows(grid: Grid) -> list[list[Any]]:
    """Header + body (+ totals) as plain values, for CSV and Excel."""
    head = [DIMENSION_LABELS[grid.rows_dim], *[label for _, label in grid.col_items]]
    if grid.row_totals:
        head.append("Tổng")
    out: list[list[Any]] = [head]
    for (_, label), cells, total in grid.body:
        line: list[Any] = [label, *[export_value(c) for c in cells]]
        if grid.row_totals:
            line.append(export_value(total))
        out.append(line)
    if grid.col_totals:
        out.append(["Tổng", *[export_value(c) for c in grid.col_totals], export_value(grid.grand)])
    return out
