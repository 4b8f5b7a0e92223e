"""Above the districts an event counted by two districts is counted once in the district forms' cells (ADR 0079).

Hand-made data: province A gets a second district (TTYT A2 with station A3). A resident of station A1 (district
TTYT A) delivers at TTYT A2. A1 counts her in its "CSYT khác" (typed, or derived from TTYT A2's row by her
residence), TTYT A2 as its own delivery: each district's BCH4 counts her once (right for each district's
report); the units above both districts — CDC A, Sở Y tế A, Vụ, Bộ — summed the two BCH4 and counted her twice,
where the official BCT4 counts her once. Now BCH4 counts her once there too, like BCT4.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mchis.analytics import selectors
from mchis.analytics.store import mark_months, rebuild_rollups
from mchis.places.models import AdminUnit, CodeVersion, Level
from mchis.registers import models as R
from mchis.reports.tests.registerdata import rec
from mchis.units.models import UnitKind
from mchis.units.services import unit_create

JAN = date(2026, 1, 1)
HOA = {"full_name": "Lò Thị Hoa", "full_name_folded": "lo thi hoa", "dob": date(1996, 6, 6)}
MAI = {"full_name": "Vi Thị Mai", "full_name_folded": "vi thi mai", "dob": date(1997, 7, 7)}
BCH = "BCH4.T:7"  # deliveries


@pytest.fixture
def district2(tree):
    """TTYT A2 (a second district of province A, under CDC A) and its station A3."""
    commune = AdminUnit.objects.create(
        version=CodeVersion.V2025,
        level=Level.COMMUNE,
        code="02302",
        name="Xã Yên Thuận",
        parent=tree.province_a,
    )
    ttyt = unit_create(
        actor=None, code="TTYT08-02", name="TTYT khu vực Yên Thuận", kind=UnitKind.TTYT, admin_unit=commune,
        parent=tree.cdc_a,
    )  # fmt: skip
    tyt = unit_create(
        actor=None, code="TYT02302", name="Trạm Y tế xã Yên Thuận", kind=UnitKind.TYT, admin_unit=commune,
        parent=ttyt,
    )  # fmt: skip
    return ttyt, tyt


def _totals(tree: Any, ttyt2: Any, element: str = BCH, *, approved: bool = False) -> tuple[Any, ...]:
    """(TTYT A, TTYT A2, CDC A, Sở Y tế A, Bộ)"""
    units = [tree.ttyt_a, ttyt2, tree.cdc_a, tree.doh_a, tree.ministry]
    rows = selectors.compute(
        [selectors.DxItem(element, "", element=element)],
        selectors.parse_periods("202601"),
        units,
        approved=approved,
    ).rows
    got = {r.ou: r.value for r in rows}
    return tuple(got.get(u.code) for u in units)


def _store(recompute: Any, *units: Any) -> None:
    mark_months([JAN], [u.pk for u in units])
    recompute()


def test_a_typed_pair_across_two_districts_counts_once_at_the_province(tree, forms, recompute, district2):
    ttyt2, tyt3 = district2
    rec(R.Delivery, tree.tyt_a1, date(2026, 1, 12), place="other_facility", **HOA)
    rec(R.Delivery, ttyt2, date(2026, 1, 12), place="at_facility", **HOA)
    _store(recompute, tree.tyt_a1, ttyt2)
    assert _totals(tree, ttyt2) == (1, 1, 1, 1, 1)
    # the official province-level form agrees
    assert _totals(tree, ttyt2, "BCT4.T:7") == (0, 0, 1, 1, 1)
    # a tree rebuild takes it out again, once
    rebuild_rollups()
    assert _totals(tree, ttyt2) == (1, 1, 1, 1, 1)


def test_two_unshared_events_in_two_districts_count_twice(tree, forms, recompute, district2):
    ttyt2, _ = district2
    rec(R.Delivery, tree.tyt_a1, date(2026, 1, 12), place="other_facility", **HOA)
    rec(R.Delivery, ttyt2, date(2026, 1, 12), place="at_facility", **MAI)  # another woman
    _store(recompute, tree.tyt_a1, ttyt2)
    assert _totals(tree, ttyt2) == (1, 1, 2, 2, 2)


def test_a_void_on_either_side_puts_the_event_back_once(tree, forms, recompute, district2):
    ttyt2, _ = district2
    a = rec(R.Delivery, tree.tyt_a1, date(2026, 1, 12), place="other_facility", **HOA)
    b = rec(R.Delivery, ttyt2, date(2026, 1, 12), place="at_facility", **HOA)
    _store(recompute, tree.tyt_a1, ttyt2)
    R.Delivery.objects.filter(pk=b.pk).update(voided_at="2026-02-01T00:00:00Z")
    _store(recompute, ttyt2)
    assert _totals(tree, ttyt2) == (1, 0, 1, 1, 1)
    R.Delivery.objects.filter(pk=b.pk).update(voided_at=None)
    _store(recompute, ttyt2)
    assert _totals(tree, ttyt2) == (1, 1, 1, 1, 1)
    R.Delivery.objects.filter(pk=a.pk).update(voided_at="2026-02-01T00:00:00Z")
    _store(recompute, tree.tyt_a1)
    assert _totals(tree, ttyt2) == (0, 1, 1, 1, 1)


def test_a_resident_served_in_another_district_derived_counts_once_at_the_province(
    tree, forms, recompute, district2
):
    """Not typed by A1: derived into its "CSYT khác" from TTYT A2's row by her residence (ADR 0047)."""
    ttyt2, _ = district2
    rec(
        R.Delivery, ttyt2, date(2026, 1, 12), place="at_facility", residence_commune_code=tree.commune_a1.code,
        **HOA,
    )  # fmt: skip
    _store(recompute, ttyt2)
    assert _totals(tree, ttyt2) == (1, 1, 1, 1, 1)


def test_a_pair_in_one_district_is_taken_out_by_the_district_itself(tree, forms, recompute):
    """A1 typed it, TTYT A (its own district) recorded it: TTYT A's own total counts her once; nothing more."""
    rec(R.Delivery, tree.tyt_a1, date(2026, 1, 12), place="other_facility", **HOA)
    rec(R.Delivery, tree.ttyt_a, date(2026, 1, 12), place="at_facility", **HOA)
    _store(recompute, tree.tyt_a1, tree.ttyt_a)
    rows = selectors.compute(
        [selectors.DxItem(BCH, "", element=BCH)],
        selectors.parse_periods("202601"),
        [tree.ttyt_a, tree.cdc_a, tree.doh_a, tree.ministry],
        approved=False,
    ).rows
    assert [r.value for r in rows] == [1, 1, 1, 1]


def test_two_districts_in_two_provinces_count_once_nationally(tree, forms, recompute):
    """The cross-province pair (ADR 0078) now takes out the district cells too, above both provinces."""
    rec(R.Delivery, tree.tyt_a1, date(2026, 1, 12), place="other_facility", **HOA)
    rec(R.Delivery, tree.ttyt_b, date(2026, 1, 12), place="at_facility", **HOA)
    _store(recompute, tree.tyt_a1, tree.ttyt_b)
    rows = selectors.compute(
        [selectors.DxItem(BCH, "", element=BCH)],
        selectors.parse_periods("202601"),
        [tree.ttyt_a, tree.ttyt_b, tree.doh_a, tree.doh_b, tree.ministry],
        approved=False,
    ).rows
    assert [r.value for r in rows] == [1, 1, 1, 1, 1]


def test_a_pair_with_a_hospital_under_the_stations_own_district_is_taken_out_there(tree, forms, recompute):
    """A district hospital under TTYT A files its own BCH4, and TTYT A's total holds it: A1's "CSYT khác" matched
    with the hospital's row is taken out in TTYT A's total; the units above take out nothing more."""
    hospital = unit_create(
        actor=None, code="BVH08-01", name="Bệnh viện khu vực Minh Xuân", kind=UnitKind.DISTRICT_HOSPITAL,
        admin_unit=tree.commune_a1, parent=tree.ttyt_a,
    )  # fmt: skip
    rec(R.Delivery, tree.tyt_a1, date(2026, 1, 12), place="other_facility", **HOA)
    rec(R.Delivery, hospital, date(2026, 1, 12), place="at_facility", **HOA)
    _store(recompute, tree.tyt_a1, hospital)
    rows = selectors.compute(
        [selectors.DxItem(BCH, "", element=BCH)],
        selectors.parse_periods("202601"),
        [hospital, tree.ttyt_a, tree.cdc_a, tree.doh_a, tree.ministry],
        approved=False,
    ).rows
    assert [r.value for r in rows] == [1, 1, 1, 1, 1]


def _approve(units: list[Any], make_user: Any) -> None:
    """Every monthly report of these units (deepest first) submitted and approved by the real services."""
    from mchis.reports import services as report_services
    from mchis.reports.selectors import approver_for, forms_in_force
    from mchis.reports.tests.registerdata import submit

    monthly = [f for f in forms_in_force(JAN) if f.period_type == "monthly"]
    for unit in sorted(units, key=lambda u: -u.path.count("/")):
        for form in (f for f in monthly if unit.kind in f.unit_kinds):
            submit(actor=make_user("reporter", unit), form_code=form.code, unit_code=unit.code, period="2026-01",
                   warning_comment="đã kiểm tra")  # fmt: skip
            report_services.report_approve(
                actor=make_user("leader", approver_for(unit)), form_code=form.code, unit_code=unit.code,
                period="2026-01",
            )  # fmt: skip


def test_approved_totals_take_it_out_only_when_both_districts_are_approved(
    tree, forms, recompute, district2, make_user
):
    ttyt2, tyt3 = district2
    rec(R.Delivery, tree.tyt_a1, date(2026, 1, 12), place="other_facility", **HOA)
    rec(R.Delivery, ttyt2, date(2026, 1, 12), place="at_facility", **HOA)
    _store(recompute, tree.tyt_a1, ttyt2)
    # district TTYT A approved (its stations first), TTYT A2 not: CDC A's approved BCH holds A's 1 only
    _approve([tree.tyt_a1, tree.tyt_a2, tree.ttyt_a], make_user)
    recompute()
    assert _totals(tree, ttyt2, approved=True)[:3] == (1, None, 1)
    # both districts approved: each approved total holds her, the province once
    _approve([tyt3, ttyt2], make_user)
    recompute()
    assert _totals(tree, ttyt2, approved=True)[:3] == (1, 1, 1)
    assert _totals(tree, ttyt2) == (1, 1, 1, 1, 1)
