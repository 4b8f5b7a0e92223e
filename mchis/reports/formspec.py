"""What a parsed report form is (biểu mẫu báo cáo, R-MCH-03): frozen dataclasses the engine reads.

``definitions.parse_form`` builds them from a definition file (validated part by part by pydantic models,
ADR 0038); ``definitions`` re-exports every name here, so callers import from either module.

Cell keys are ``"<row id>:<column id>"`` (e.g. ``"I.5.1a:tyt"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.reason}"


class FormDefinitionError(Exception):
    """A malformed definition; ``problems`` lists each (file, path, reason)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Filter:
    field: str
    lookup: str
    value: Any

    def describe(self) -> str:
        sym = {"exact": "=", "ne": "≠", "in": "∈", "gte": "≥", "lte": "≤", "gt": ">", "lt": "<"}
        if self.lookup == "isnull":
            return f"{self.field} {'trống' if self.value else 'có giá trị'}"
        return f"{self.field} {sym[self.lookup]} {self.value!r}"


@dataclass(frozen=True)
class Query:
    """Register query behind a cell: count / count distinct / sum over one register's filtered rows."""

    register: str
    filters: tuple[Filter, ...]
    measure: str = "count"
    measure_field: str = ""
    any_of: tuple[tuple[Filter, ...], ...] = ()
    period_field: str = ""
    unless: str = (
        ""  # a matcher of mchis.reports.matching: rows whose event another register holds are skipped
    )
    also: Query | None = None  # a second register's rows added to the count (one event, one truth)

    def with_filters(self, extra: tuple[Filter, ...]) -> Query:
        """The same query with more filters (a column's), also on its `also` part."""
        return Query(
            self.register,
            tuple(sorted(self.filters + extra, key=lambda f: (f.field, f.lookup))),
            self.measure,
            self.measure_field,
            self.any_of,
            self.period_field,
            self.unless,
            self.also.with_filters(extra) if self.also else None,
        )

    def describe(self) -> str:
        what = {
            "count": "Đếm số bản ghi",
            "count_distinct": f"Đếm số người khác nhau ({self.measure_field})",
            "sum": f"Tổng của trường {self.measure_field}",
        }[self.measure]
        parts = [f.describe() for f in self.filters]
        if self.any_of:
            alts = " hoặc ".join("(" + " và ".join(f.describe() for f in alt) + ")" for alt in self.any_of)
            parts.append(f"[{alts}]")
        cond = " và ".join(parts) or "không có điều kiện thêm"
        when = f"ngày '{self.period_field}' trong kỳ" if self.period_field else "tháng của sự kiện trong kỳ"
        text = f"{what} trong sổ '{self.register}' của đơn vị, {when}, với: {cond}"
        if self.unless:
            text += f", trừ sự kiện đã có ở sổ khác ({self.unless})"
        if self.also:
            text += "; cộng thêm: " + self.also.describe()
        return text


@dataclass(frozen=True)
class Term:
    sign: int
    cell: str = ""
    constant: int = 0


@dataclass(frozen=True)
class AggregateSource:
    """A cell of a lower-level form whose approved values are summed into this cell."""

    form: str
    cell: str


@dataclass(frozen=True)
class Cell:
    row: str
    column: str
    manual: bool
    query: Query | None
    aggregate: tuple[AggregateSource, ...]
    data_element: str
    category_option_combo: str
    formula: tuple[Term, ...] = ()
    # a manual cell the unit must fill before submitting (default for every manual cell; "required": false
    # in the file makes it optional). An empty manual cell has no value at all, never an invented 0.
    required: bool = False
    key: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # computed once: the key is read millions of times in a national roll-up
        object.__setattr__(self, "key", f"{self.row}:{self.column}")

    @property
    def source(self) -> str:
        return "manual" if self.manual else ("formula" if self.formula else "computed")


@dataclass(frozen=True)
class Column:
    id: str
    label: str
    filters: tuple[Filter, ...]
    category_option_combo: str


@dataclass(frozen=True)
class Row:
    id: str
    no: str
    label: str
    columns: tuple[str, ...]
    parent: str = ""


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Rule:
    id: str
    left: tuple[Term, ...]
    op: str
    right: tuple[Term, ...]
    severity: str
    message: str

    def describe(self) -> str:
        def side(terms: tuple[Term, ...]) -> str:
            out = []
            for i, t in enumerate(terms):
                sign = "-" if t.sign < 0 else ("+" if i else "")
                out.append(f"{sign}{t.cell or t.constant}")
            return " ".join(out)

        return f"{side(self.left)} {self.op} {side(self.right)}"


@dataclass(frozen=True)
class FormSpec:
    code: str
    version: str
    title: str
    legal_basis: str
    valid_from: date
    valid_to: date | None
    level: str
    period_type: str
    unit_kinds: tuple[str, ...]
    deadline_days: int | None
    dataset: str
    columns: tuple[Column, ...]
    sections: tuple[Section, ...]
    cells: tuple[Cell, ...]
    rules: tuple[Rule, ...]
    raw: dict[str, Any] = field(repr=False, compare=False, hash=False, default_factory=dict)

    def cell(self, key: str) -> Cell:
        return self.cell_map[key]

    @property
    def cell_map(self) -> dict[str, Cell]:
        return {c.key: c for c in self.cells}

    @property
    def column_map(self) -> dict[str, Column]:
        return {c.id: c for c in self.columns}

    def rows(self) -> list[Row]:
        return [r for s in self.sections for r in s.rows]

    def cell_label(self, key: str) -> str:
        """'Tổng số phụ nữ có thai — Tổng số': the row label and the column name a person reads."""
        row_id, _, col_id = key.partition(":")
        row = next((r for r in self.rows() if r.id == row_id), None)
        col = self.column_map.get(col_id)
        if row is None or col is None:
            return key
        return f"{row.label} — {col.label}"
