"""Disclosure control (R-AN-03): small counts hidden below the province, complements so that no hidden cell can
be recovered from the published totals of its table, rates on small denominators. The attacks here are written
independently of ``disclosure.determined``: plain subtraction along rows and columns, and linear algebra
(numpy rank) over every relation the published table gives."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mchis.portal.disclosure import Rules, Table, protect, rate_decision, rules_from

RULES = Rules()


def published_view(
    table: Table, hidden: set[Any]
) -> tuple[dict[Any, int | None], list[tuple[list[Any], int]]]:
    """What a reader sees: every cell (None where hidden) and every relation with its public total."""
    seen: dict[Any, int | None] = {}
    for (r, c), v in table.cells.items():
        seen[("x", r, c)] = None if ("x", r, c) in hidden else v
    for r, v in table.row_totals.items():
        seen[("t", r)] = None if ("t", r) in hidden else v
    relations: list[tuple[list[Any], int]] = []  # sum(+cells) - sum(-cells) = total
    rows: dict[Any, list[Any]] = {}
    cols: dict[Any, list[Any]] = {}
    for r, c in table.cells:
        rows.setdefault(r, []).append(("x", r, c))
        cols.setdefault(c, []).append(("x", r, c))
    for r, cells in rows.items():
        relations.append(([(1, x) for x in cells] + [(-1, ("t", r))], 0))
    for c, cells in cols.items():
        relations.append(([(1, x) for x in cells], table.col_totals[c]))
    relations.append(([(1, ("t", r)) for r in rows], sum(table.col_totals.values())))
    return seen, relations


def subtraction_attack(table: Table, hidden: set[Any]) -> set[Any]:
    """Fill any relation with a single unknown, again and again."""
    seen, relations = published_view(table, hidden)
    found: set[Any] = set()
    progress = True
    while progress:
        progress = False
        for terms, total in relations:
            unknown = [(k, x) for k, x in terms if seen[x] is None]
            if len(unknown) == 1:
                k, x = unknown[0]
                known = sum(k2 * (seen[x2] or 0) for k2, x2 in terms if seen[x2] is not None)
                seen[x] = (total - known) * k
                found.add(x)
                progress = True
    return found


def algebra_attack(table: Table, hidden: set[Any]) -> set[Any]:
    """Cells fixed by the linear system of all relations: e_i in the row space <=> adding it does not raise
    the rank. Non-negativity is not used: it bounds a hidden cell (at most its row's or column's remainder) but
    is not an exact recovery from the totals (docs/portal.md, limits)."""
    seen, relations = published_view(table, hidden)
    unknowns = sorted(hidden, key=repr)
    idx = {x: i for i, x in enumerate(unknowns)}
    rows = []
    for terms, _ in relations:
        vec = np.zeros(len(unknowns))
        for k, x in terms:
            if x in idx:
                vec[idx[x]] = k
        if vec.any():
            rows.append(vec)
    if not rows:
        return set(unknowns)
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    return {
        x for x in unknowns if np.linalg.matrix_rank(np.vstack([a, np.eye(len(unknowns))[idx[x]]])) == rank
    }


counts = st.one_of(st.integers(0, 6), st.integers(0, 60))


@st.composite
def tables(draw: Any) -> Table:
    n_rows = draw(st.integers(2, 6))
    n_cols = draw(st.integers(1, 6))
    return Table.from_cells({(r, c): draw(counts) for r in range(n_rows) for c in range(n_cols)})


@settings(max_examples=300)
@given(tables(), st.integers(1, 5))
def test_r_an_03_no_suppressed_cell_is_recoverable_from_published_totals(table, threshold):
    rules = Rules(threshold=threshold, min_denominator=threshold + 1)
    protection = protect(table, rules)
    hidden = set(protection.suppressed)
    # every small count is hidden ...
    for (r, c), v in table.cells.items():
        if 1 <= v <= threshold:
            assert ("x", r, c) in protection.primary
    # ... and none of the hidden cells comes back, by subtraction or by solving the whole system
    assert not subtraction_attack(table, hidden)
    assert not algebra_attack(table, hidden)


def test_one_hidden_cell_in_a_row_is_given_away_without_complements():
    """Why complements exist: the primary cell alone is found by subtraction."""
    table = Table.from_cells({(0, 0): 3, (0, 1): 10, (1, 0): 20, (1, 1): 30})
    assert subtraction_attack(table, {("x", 0, 0)}) == {("x", 0, 0)}
    protection = protect(table, RULES)
    assert protection.primary == {("x", 0, 0)} and protection.complementary
    assert not algebra_attack(table, set(protection.suppressed))


def test_nothing_to_hide_hides_nothing():
    table = Table.from_cells({(0, 0): 0, (0, 1): 10, (1, 0): 20, (1, 1): 30})
    assert not protect(table, RULES).suppressed


def test_published_district_table_resists_the_attacks(published):
    """The district × month table of a real publication, rebuilt from the public figures alone."""
    from mchis.portal.models import PublishedFigure

    figs = PublishedFigure.objects.filter(statistic="deliveries", province_code="08")
    district = {(f.area_code, f.period): f for f in figs if f.level == "district"}
    province = {f.period: f for f in figs if f.level == "province"}
    months = sorted(p for p in province if "-" in p)
    areas = sorted({a for a, _ in district})
    cells: dict[tuple[str, str], int] = {}
    hidden: set[Any] = set()
    for a in areas:
        for m in months:
            f = district[(a, m)]
            cells[(a, m)] = int(f.value) if f.value is not None else -1
            if f.suppressed:
                hidden.add(("x", a, m))
        if district[(a, "2026")].suppressed:
            hidden.add(("t", a))
    assert hidden, "the fixture publishes small counts"
    # the true values stand in for the hidden ones only to build the relations; the attackers see None there
    truth = {(a, m): int(v) for (a, m), v in _truth().items()}
    table = Table(
        {k: (truth[k] if v < 0 else v) for k, v in cells.items()},
        {a: sum(truth[(a, m)] for m in months) for a in areas},
        {m: int(province[m].value or 0) for m in months},
    )
    assert table.col_totals == {m: sum(truth[(a, m)] for a in areas) for m in months}
    assert not subtraction_attack(table, hidden)
    assert not algebra_attack(table, hidden)


def _truth() -> dict[tuple[str, str], int]:
    # the `published` fixture's deliveries: TYT A1 (in TTYT08-01) and TYT A3 (in TTYT08-02)
    return {
        ("TTYT08-01", "2026-01"): 30, ("TTYT08-01", "2026-02"): 28, ("TTYT08-01", "2026-03"): 31,
        ("TTYT08-02", "2026-01"): 3, ("TTYT08-02", "2026-02"): 9, ("TTYT08-02", "2026-03"): 2,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("level", "denominator", "expected"),
    [
        ("district", 12, (True, "small_denominator")),
        ("district", 40, (False, "")),
        ("province", 12, (False, "small_denominator")),
        ("national", 0, (False, "")),
    ],
)
def test_rates_on_small_denominators(level, denominator, expected):
    d = rate_decision(level, denominator, parts_suppressed=False, rules=RULES)
    assert (d.suppressed, d.flag) == expected
    assert rate_decision("province", 500, parts_suppressed=True, rules=RULES).suppressed


def test_rules_are_configurable_and_checked():
    assert rules_from({"THRESHOLD": 2, "MIN_DENOMINATOR": 10, "LOWEST_LEVEL": "commune"}).publishes("commune")
    assert not RULES.publishes("commune") and RULES.publishes("district")
    with pytest.raises(ValueError, match="exceed"):
        Rules(threshold=5, min_denominator=5)
