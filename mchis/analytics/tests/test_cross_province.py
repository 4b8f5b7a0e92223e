"""Above the provinces an event counted by two provinces is counted once (ADR 0078).

Hand-made data on the two-province tree: a resident of station A1 (province A) delivers at TTYT B (province
B). A1 counts her in its "CSYT khác" (typed by A1, or derived from TTYT B's row by her residence), TTYT B as
its own delivery; each province's BCT4 counts her once (right for each province's report), the Vụ and the
Bộ — the sum of the provinces — once, not twice.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.test import Client

from mchis.analytics import selectors
from mchis.analytics.models import CrossProvinceEvent
from mchis.analytics.store import mark_months, rebuild_rollups
from mchis.registers import models as R
from mchis.reports.periods import parse_period
from mchis.reports.selectors import rollup
from mchis.reports.tests.registerdata import rec

JAN = date(2026, 1, 1)
HOA = {"full_name": "Lò Thị Hoa", "full_name_folded": "lo thi hoa", "dob": date(1996, 6, 6)}
MAI = {"full_name": "Vi Thị Mai", "full_name_folded": "vi thi mai", "dob": date(1997, 7, 7)}


def _totals(tree: Any, element: str = "BCT4.T:7", *, approved: bool = False) -> tuple[Any, ...]:
    rows = selectors.compute(
        [selectors.DxItem(element, "", element=element)],
        selectors.parse_periods("202601"),
        [tree.doh_a, tree.doh_b, tree.ministry_dept, tree.ministry],
        approved=approved,
    ).rows
    got = {r.ou: r.value for r in rows}
    return tuple(got.get(code) for code in ("SYT08", "SYT04", "BYT-BMTE", "BYT"))


def _store(tree: Any, recompute: Any, *units: Any) -> None:
    """Mark the units' January (default: every unit that records) and recompute, as a write would."""
    units = units or (tree.tyt_a1, tree.tyt_a2, tree.ttyt_a, tree.tyt_b1, tree.ttyt_b)
    mark_months([JAN], [u.pk for u in units])
    recompute()


@pytest.fixture
def shared(tree, forms, recompute):
    """Hoa: typed by A1 as "CSYT khác", recorded by TTYT B as its own delivery."""
    a = rec(R.Delivery, tree.tyt_a1, date(2026, 1, 12), place="other_facility", **HOA)
    b = rec(R.Delivery, tree.ttyt_b, date(2026, 1, 12), place="at_facility", **HOA)
    _store(tree, recompute)
    return a, b


def test_a_typed_pair_across_provinces_counts_once_above_them(tree, shared, recompute):
    assert _totals(tree) == (1, 1, 1, 1)
    # the bulk roll-up has no total above the provinces (no form is filed there): nothing to take out in it
    out = rollup(parse_period("2026-01"))
    assert {uid for _, uid in out} & {tree.ministry.pk, tree.ministry_dept.pk, tree.doh_a.pk} == set()
    assert (out[("BCT4", tree.cdc_a.pk)]["T:7"], out[("BCT4", tree.cdc_b.pk)]["T:7"]) == (1, 1)
    # a second, unshared event in each province: 2 each, 3 nationally (Hoa once, Mai and Lan each once)
    rec(R.Delivery, tree.tyt_a2, date(2026, 1, 14), place="at_facility", **MAI)
    rec(R.Delivery, tree.tyt_b1, date(2026, 1, 15), place="at_facility", full_name="Nông Thị Lan")
    _store(tree, recompute)
    assert _totals(tree) == (2, 2, 3, 3)


def test_two_unshared_events_in_two_provinces_count_twice(tree, forms, recompute):
    rec(R.Delivery, tree.tyt_a1, date(2026, 1, 12), place="other_facility", **HOA)
    rec(R.Delivery, tree.ttyt_b, date(2026, 1, 12), place="at_facility", **MAI)  # another woman
    _store(tree, recompute)
    assert _totals(tree) == (1, 1, 2, 2)
    assert not CrossProvinceEvent.objects.exists()


def test_a_void_on_either_side_puts_the_event_back_once(tree, shared, recompute):
    a, b = shared
    R.Delivery.objects.filter(pk=b.pk).update(voided_at="2026-02-01T00:00:00Z")
    _store(tree, recompute, tree.ttyt_b)  # only province B is recomputed: it puts the event back
    assert _totals(tree) == (1, 0, 1, 1)
    R.Delivery.objects.filter(pk=b.pk).update(voided_at=None)
    _store(tree, recompute, tree.ttyt_b)
    assert _totals(tree) == (1, 1, 1, 1)
    R.Delivery.objects.filter(pk=a.pk).update(voided_at="2026-02-01T00:00:00Z")
    _store(tree, recompute, tree.tyt_a1)  # only province A
    assert _totals(tree) == (0, 1, 1, 1)
    assert not CrossProvinceEvent.objects.exists()


def test_a_resident_served_in_another_province_derived_counts_once_above_them(tree, forms, recompute):
    """Not typed by A1: derived into its "CSYT khác" from TTYT B's row by her residence (ADR 0047)."""
    rec(
        R.Delivery,
        tree.ttyt_b,
        date(2026, 1, 12),
        place="at_facility",
        residence_commune_code=tree.commune_a1.code,
        **HOA,
    )
    _store(tree, recompute)
    assert _totals(tree) == (1, 1, 1, 1)
    row = CrossProvinceEvent.objects.get()
    assert (row.kind, row.station_id, row.station_root_id, row.other_root_id) == (
        "derived",
        tree.tyt_a1.pk,
        tree.doh_a.pk,
        tree.doh_b.pk,
    )
    # a tree rebuild takes it out again, once
    rebuild_rollups()
    assert _totals(tree) == (1, 1, 1, 1)


def _post(unit: Any, records: list[dict[str, Any]], make_user: Any) -> dict[str, Any]:
    c = Client()
    c.force_login(make_user("collector", unit))
    res = c.post(
        "/api/v1/registers/delivery/records",
        json.dumps({"records": records}),
        content_type="application/json",
    )
    assert res.status_code == 200, res.content.decode()
    return res.json()


def test_a_record_moved_to_another_month_leaves_no_stale_month_in_its_residents_province(
    tree, forms, recompute, make_user
):
    """TTYT A (province A) records the delivery of a resident of B1 (province B), then moves it to February:
    January of province B (B1's derived "CSYT khác") must drop it, though nothing of province B was written."""
    nga = {
        "facility": tree.ttyt_a.code, "source_system": "hand", "source_record_id": "TA-1", "place": "at_facility",
        "full_name": "Bế Thị Nga", "dob": "1992-05-05", "ethnicity_code": "01",
        "residence_commune_code": tree.commune_b1.code, "gestational_age_weeks": 39, "delivery_mode": "normal",
        "attendant": "doctor", "newborns": [{"outcome": "live", "sex": "M", "weight_grams": 3100}],
    }  # fmt: skip
    assert _post(tree.ttyt_a, [{**nga, "event_date": "2026-01-22"}], make_user)["created"] == 1
    recompute()
    assert _totals(tree) == (1, 1, 1, 1)  # H's delivery in A, derived into B1's "CSYT khác" in B: once above
    body = _post(tree.ttyt_a, [{**nga, "event_date": "2026-02-03"}], make_user)
    assert body["updated"] == 1, body
    recompute()
    period = parse_period("2026-01")
    out = rollup(period)
    assert out[("BCT4", tree.cdc_b.pk)]["T:7"] == 0
    assert _totals(tree) == (0, 0, 0, 0)
    assert not CrossProvinceEvent.objects.filter(month=JAN).exists()


def test_a_facility_that_files_no_form_is_in_no_total_so_nothing_is_taken_out(tree, forms, recompute):
    """A private clinic of province B (files no monthly form: its rows are in no total) recorded Hoa, whom A1
    typed: province A counts her once, B not at all, the nation once."""
    from mchis.units.models import UnitKind
    from mchis.units.services import unit_create

    clinic = unit_create(
        actor=None, code="PK04-01", name="Phòng khám tư nhân Thục Phán", kind=UnitKind.PRIVATE_CLINIC,
        admin_unit=tree.commune_b1, parent=tree.ttyt_b,
    )  # fmt: skip
    rec(R.Delivery, tree.tyt_a1, date(2026, 1, 12), place="other_facility", **HOA)
    rec(R.Delivery, clinic, date(2026, 1, 12), place="at_facility", **HOA)
    _store(tree, recompute, tree.tyt_a1, clinic)
    assert _totals(tree) == (1, 0, 1, 1)
    assert not CrossProvinceEvent.objects.exists()
