"""The store's provisional report-cell totals against the reports' bulk roll-up (``reports.selectors.rollup``).

Tree and data: the hand-counted district and the residents of ``reports/tests/test_rollup_matches_official``
(a pair in one district: A1-D2 = H-D1; across districts of one province: PA-R1 derived into A1; across
provinces: H-R6 derived into B1, and B1-X1 typed by B1 as "CSYT khác" = H-X1; unmatched "CSYT khác" typed by
A2-X1, typed by A2 for a facility outside the system; residence-derived events).
"""

from __future__ import annotations

from typing import Any

import pytest

from mchis.analytics import selectors
from mchis.analytics.store import rebuild_rollups
from mchis.registers.locks import record_void
from mchis.reports.periods import parse_period
from mchis.reports.selectors import report_view, rollup
from mchis.reports.selectors.duplicates import REGISTERS
from mchis.reports.tests import test_rollup_matches_official as official
from mchis.reports.tests.test_district_hand_count import rec
from mchis.reports.tests.test_rollup_matches_official import (
    A1,
    A2,
    AT,
    B1,
    OTHER,
    H,
    P,
    _approve_everything,
    _post,
    birth,
    woman,
)
from mchis.units.models import ReportingUnit

# B1's resident typed as "CSYT khác" by B1 and served at the district hospital H of province A
province = official.province  # the fixture: the tree, records and residents of the official test
ROSE = woman("Triệu Thị Hồng", "1998-08-08")
LOAN = woman("Hoàng Thị Loan", "1999-09-09")


def _mismatches() -> list[tuple[str, str, str, Any, Any]]:
    out = rollup(parse_period(P))
    codes = dict(ReportingUnit.objects.values_list("pk", "code"))
    wrong = []
    for (form, uid), cells in sorted(out.items()):
        unit = ReportingUnit.objects.get(pk=uid)
        elements = [f"{form}.{k}" for k in sorted(cells)]
        items = [selectors.DxItem(e, e, element=e) for e in elements]
        rows = selectors.compute(items, selectors.parse_periods("202601"), [unit], approved=False).rows
        got = {r.dx: r.value for r in rows}
        wrong += [
            (form, codes[uid], e, got[e], cells[e.split(".", 1)[1]])
            for e in elements
            if got[e] != cells[e.split(".", 1)[1]]
        ]
    return wrong


def _more_pairs(province: dict[str, Any], make_user: Any) -> None:
    _post(province[B1], "delivery", [rec(B1, "B1-X1", "23", OTHER, ROSE, **birth("F", 3000))], make_user)
    _post(province[H], "delivery", [rec(H, "H-X1", "23", AT, ROSE, **birth("F", 3000))], make_user)
    # A2's resident served by a facility outside the system: matched nowhere, counted through A2 everywhere
    _post(province[A2], "delivery", [rec(A2, "A2-X1", "24", OTHER, LOAN, **birth("M", 3200))], make_user)


@pytest.mark.parametrize("province", [True], indirect=True, ids=["residents"])
def test_rollup_of_one_province_equals_the_national_rollup_there(province, tree, make_user):
    """The premise of recomputing the store's report-cell roll-ups per province (docs/analytics.md): the bulk
    roll-up of one province's subtree gives every unit of it what the national roll-up gives, also for a
    derived event served in the other province (H-R6 into B1) and a typed pair across provinces (B1-X1 = H-X1,
    taken out nowhere: no form is filed above a province)."""
    _more_pairs(province, make_user)
    period = parse_period(P)
    nation = rollup(period)
    for doh in (tree.doh_a, tree.doh_b):
        part = rollup(period, doh)
        assert part and part == {k: v for k, v in nation.items() if k in part}
    assert set(nation) == set(rollup(period, tree.doh_a)) | set(rollup(period, tree.doh_b))
    assert nation[("BCT4", tree.cdc_b.pk)]["T:7"] == 2  # Nga (derived) and Hồng (typed) at B1
    assert nation[("BCH4", tree.ttyt_a.pk)]["T:7"] == 15  # 13 of the official test + Hồng at H + Loan (A2)


def _void(unit: ReportingUnit, register: str, source_id: str, make_user: Any) -> None:
    model = REGISTERS[register]
    record = model.objects.get(facility=unit, source_record_id=source_id)
    record_void(
        actor=make_user("collector", unit), register=register, record_id=record.pk, reason="Nhập nhầm"
    )


def _approved_mismatches(viewer: Any) -> list[tuple[str, str, str, Any, Any]]:
    """Every cell of every approved report whose approved store value differs from the report page."""
    codes = dict(ReportingUnit.objects.values_list("pk", "code"))
    wrong = []
    for (form, uid), _ in sorted(rollup(parse_period(P)).items()):
        view = report_view(viewer, form, codes[uid], P)
        assert view.status == "approved"
        unit = ReportingUnit.objects.get(pk=uid)
        items = [selectors.DxItem(f"{form}.{k}", k, element=f"{form}.{k}") for k in sorted(view.values)]
        rows = selectors.compute(items, selectors.parse_periods("202601"), [unit], approved=True).rows
        wrong += [
            (form, codes[uid], r.dx, r.value, view.values[r.dx.split(".", 1)[1]])
            for r in rows
            if r.value != (view.values[r.dx.split(".", 1)[1]] or 0)
        ]
    return wrong


@pytest.mark.parametrize("province", [True], indirect=True, ids=["residents"])
def test_r_mch_03_store_report_cells_equal_the_rollup_after_every_write(province, tree, make_user, recompute):
    """ADR 0077: after the load and after each write (a pair made at the serving facility, voids there and at
    the station, a tree rebuild, an approval), every report cell of every filing unit in the store equals ``rollup()``; an
    approved report's cells equal the report page; a unit that files no form sums its children."""
    _more_pairs(province, make_user)
    recompute()
    assert _mismatches() == []
    # the serving facility records Loan, whom A2 typed as "CSYT khác": now a pair inside the district
    _post(province[H], "delivery", [rec(H, "H-X2", "24", AT, LOAN, **birth("M", 3200))], make_user)
    recompute()
    assert _mismatches() == []
    # voids at the facility: Xuân (derived into A2) and Nga (derived into B1, another province)
    _void(province[H], "delivery", "H-R1", make_user)
    _void(province[H], "delivery", "H-R6", make_user)
    recompute()
    assert _mismatches() == []
    # a void at the station: A1's typed row of the pair A1-D2 = H-D1
    _void(province[A1], "delivery", "A1-D2", make_user)
    recompute()
    assert _mismatches() == []
    out = rollup(parse_period(P))
    got = {
        (r.ou, r.dx): r.value
        for r in selectors.compute(
            [selectors.DxItem("BCT4.T:7", "", element="BCT4.T:7")],
            selectors.parse_periods("202601"),
            [tree.doh_a, tree.doh_b, tree.ministry],
            approved=False,
        ).rows
    }
    a, b = out[("BCT4", tree.cdc_a.pk)]["T:7"], out[("BCT4", tree.cdc_b.pk)]["T:7"]
    # Hồng (B1-X1 typed by B1 = H-X1 in province A) is in both provinces' totals, once nationally (ADR 0078)
    assert (got[("SYT08", "BCT4.T:7")], got[("SYT04", "BCT4.T:7")], got[("BYT", "BCT4.T:7")]) == (
        a,
        b,
        a + b - 1,
    )
    # a tree rebuild (after units moved) recomputes the report cells by province, not by plain sums
    rebuild_rollups()
    assert _mismatches() == []
    _approve_everything(make_user)
    recompute()
    assert _mismatches() == []
    assert _approved_mismatches(make_user("leader", tree.ministry_dept)) == []
    national = selectors.compute(
        [selectors.DxItem("BCT4.T:7", "", element="BCT4.T:7")],
        selectors.parse_periods("202601"),
        [tree.ministry],
        approved=True,
    ).rows
    assert [r.value for r in national] == [
        a + b - 1
    ]  # both provinces approved: once in the approved total too
