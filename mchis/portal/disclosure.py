"""Disclosure control for the public portal (R-AN-03): pure functions, no database.

* **Small counts** (``threshold``, default 4): a count between 1 and the threshold is suppressed at unit levels
  below the province (primary suppression). Zero is not sensitive; province and national figures are never
  suppressed (they are the published totals).
* **Complementary suppression**: a table of district figures is published together with its totals (the
  province's figure of each month, the district's figure of the year). One suppressed cell in a line whose total
  is public is found by subtraction, so more cells are suppressed until no suppressed cell is determined by the
  published numbers: ``protect`` adds complements until, in the linear system the published table defines, no
  suppressed cell is fixed (exact rational elimination; a suppressed zero counts as known, the attacker's
  non-negativity bound). Complements are chosen to close cycles first, then positive, then smallest.
* **Rates** (their value is the analytics indicator's, ``sources``): a rate is withheld where its numerator or denominator count is withheld, and, below the province,
  where the denominator is under ``min_denominator``; at the province and national level a small denominator
  is published with a flag (“ít số liệu, diễn giải thận trọng”).
* **Levels**: nothing below ``lowest_level`` (default the district) is ever published.

docs/portal.md and the public methods page explain the rule; docs/decisions/0068 the choice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

LEVELS = ("national", "province", "district", "commune")  # top to bottom
BELOW_PROVINCE = frozenset({"district", "commune"})

# A cell of a protected table: ("x", row, col) interior value, ("t", row) the row's total.
Cell = tuple[Any, ...]


@dataclass(frozen=True)
class Rules:
    threshold: int = 4
    min_denominator: int = 20
    lowest_level: str = "district"

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError("threshold must be at least 1")
        if self.min_denominator <= self.threshold:
            raise ValueError("min_denominator must exceed the small-count threshold")
        if self.lowest_level not in LEVELS:
            raise ValueError(f"unknown level {self.lowest_level!r}")

    def publishes(self, level: str) -> bool:
        return LEVELS.index(level) <= LEVELS.index(self.lowest_level)

    def sensitive(self, value: int | None) -> bool:
        return value is not None and 1 <= value <= self.threshold


def rules_from(config: Mapping[str, Any] | None) -> Rules:
    config = config or {}
    return Rules(
        threshold=int(config.get("THRESHOLD", 4)),
        min_denominator=int(config.get("MIN_DENOMINATOR", 20)),
        lowest_level=str(config.get("LOWEST_LEVEL", "district")),
    )


@dataclass
class Table:
    """District (rows) × period (columns) counts of one statistic in one province, with the totals that are
    published beside it: ``col_totals`` (the province's figure of each column, always public) and
    ``row_totals`` (each row's total over the columns, itself a publishable figure below the province)."""

    cells: dict[tuple[Any, Any], int]
    row_totals: dict[Any, int] = field(default_factory=dict)
    col_totals: dict[Any, int] = field(default_factory=dict)

    @classmethod
    def from_cells(cls, cells: Mapping[tuple[Any, Any], int]) -> Table:
        rows: dict[Any, int] = {}
        cols: dict[Any, int] = {}
        for (r, c), v in cells.items():
            rows[r] = rows.get(r, 0) + v
            cols[c] = cols.get(c, 0) + v
        return cls(dict(cells), rows, cols)

    def value(self, cell: Cell) -> int:
        return self.cells[(cell[1], cell[2])] if cell[0] == "x" else self.row_totals[cell[1]]

    def lines(self) -> list[list[Cell]]:
        """Every additive relation whose total is public or itself a cell: a row with its total cell, and a
        column (its total is the public province figure)."""
        by_row: dict[Any, list[Cell]] = {}
        by_col: dict[Any, list[Cell]] = {}
        for r, c in self.cells:
            by_row.setdefault(r, []).append(("x", r, c))
            by_col.setdefault(c, []).append(("x", r, c))
        out = [cells + [("t", r)] for r, cells in by_row.items() if r in self.row_totals]
        out += list(by_col.values())
        out.append([("t", r) for r in self.row_totals])  # the row totals add up to the public grand total
        return out


@dataclass(frozen=True)
class Protection:
    primary: frozenset[Cell]
    complementary: frozenset[Cell]

    @property
    def suppressed(self) -> frozenset[Cell]:
        return self.primary | self.complementary


def _coefficients(table: Table, line: list[Cell]) -> dict[Cell, int]:
    """Signs of the relation: interior cells +1, the row's own total -1 (a row: sum(x) - t = 0)."""
    if line and line[-1][0] == "t" and any(c[0] == "x" for c in line):
        return {c: (-1 if c[0] == "t" else 1) for c in line}
    return dict.fromkeys(line, 1)


def determined(table: Table, suppressed: Iterable[Cell], *, zeros_known: bool = False) -> set[Cell]:
    """Suppressed cells whose value the published table fixes exactly (the attack ``protect`` defends
    against): Gauss-Jordan elimination over the rationals of the relations restricted to suppressed cells.
    ``zeros_known`` adds each suppressed zero as known (a stricter attacker, for analysis)."""
    hidden = sorted(set(suppressed), key=repr)
    index = {c: i for i, c in enumerate(hidden)}
    rows: list[list[Fraction]] = []
    for line in table.lines():
        coeff = _coefficients(table, line)
        vec = [Fraction(0)] * len(hidden)
        for c, k in coeff.items():
            if c in index:
                vec[index[c]] = Fraction(k)
        if any(vec):
            rows.append(vec)
    for c in hidden if zeros_known else ():
        if table.value(c) == 0:
            vec = [Fraction(0)] * len(hidden)
            vec[index[c]] = Fraction(1)
            rows.append(vec)
    pivots = _rref(rows, len(hidden))
    fixed = set()
    for r, col in pivots:
        if all(v == 0 for j, v in enumerate(rows[r]) if j != col):
            fixed.add(hidden[col])
    return fixed


def _rref(rows: list[list[Fraction]], width: int) -> list[tuple[int, int]]:
    """In-place reduced row echelon form; returns (row, pivot column) pairs."""
    pivots: list[tuple[int, int]] = []
    r = 0
    for col in range(width):
        pick = next((i for i in range(r, len(rows)) if rows[i][col] != 0), None)
        if pick is None:
            continue
        rows[r], rows[pick] = rows[pick], rows[r]
        lead = rows[r][col]
        rows[r] = [v / lead for v in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][col] != 0:
                f = rows[i][col]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivots.append((r, col))
        r += 1
        if r == len(rows):
            break
    return pivots


def protect(table: Table, rules: Rules) -> Protection:
    """Primary suppression of small counts, then complements until no suppressed cell is determined."""
    primary: set[Cell] = {("x", r, c) for (r, c), v in table.cells.items() if rules.sensitive(v)}
    primary |= {("t", r) for r, v in table.row_totals.items() if rules.sensitive(v)}
    suppressed = set(primary)
    candidates: list[Cell] = [("x", r, c) for (r, c) in table.cells]
    candidates += [("t", r) for r in table.row_totals]
    for _ in range(len(candidates) + 1):
        exposed = determined(table, suppressed) if suppressed else set()
        if not exposed:
            break
        target = min(exposed, key=repr)
        pick = _complement_for(table, target, suppressed)
        if pick is None:  # nothing left to hide in its lines (a one-row table): hide the whole table
            suppressed |= set(candidates)
            break
        suppressed.add(pick)
    return Protection(frozenset(primary), frozenset(suppressed - primary))


def _complement_for(table: Table, target: Cell, suppressed: set[Cell]) -> Cell | None:
    all_lines = table.lines()
    options = {c for line in all_lines if target in line for c in line if c not in suppressed}
    if not options:
        return None

    def elsewhere(c: Cell) -> int:
        """Hidden cells in c's other line: hiding c there closes a cycle instead of opening a new line."""
        return sum(
            1 for line in all_lines if c in line and target not in line for x in line if x in suppressed
        )

    # close a cycle, then a positive value (a hidden zero is known: it cannot go lower), then the smallest
    # (least information lost), then a stable order
    return min(options, key=lambda c: (elsewhere(c) == 0, table.value(c) == 0, table.value(c), repr(c)))


@dataclass(frozen=True)
class RateDecision:
    suppressed: bool
    flag: str  # "" | "small_denominator"


def rate_decision(
    level: str, denominator: int | None, *, parts_suppressed: bool, rules: Rules
) -> RateDecision:
    """Whether a rate is published: withheld with its numerator/denominator count; a small denominator
    withholds it below the province and flags it above."""
    if parts_suppressed:
        return RateDecision(True, "")
    small = denominator is not None and 0 < denominator < rules.min_denominator
    if small and level in BELOW_PROVINCE:
        return RateDecision(True, "small_denominator")
    return RateDecision(False, "small_denominator" if small else "")
