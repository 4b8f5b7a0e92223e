"""CX_COV counts women, not visits (WHO; ADR 0079): women aged 30–49 at the end of the period screened at least
once in the 60 months up to it, each once, held by the unit of her most recent screening.

Hand-made rows on the two-province tree (A1, A2 under TTYT A; B1 in province B). Every value below is counted
by hand from the rows of its test. A write is imitated as the register write paths do it: the row, then its
own unit-month marked dirty (``mark_months([month], [unit])``), then the worker (``recompute``) — what else
changes (other months, other units) the store must find itself.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mchis.analytics import selectors
from mchis.analytics.coverage import ELEMENT, women_screened
from mchis.analytics.models import DirtyCoverage
from mchis.analytics.services import population_load
from mchis.analytics.store import mark_months
from mchis.core.text import fold
from mchis.registers import models as R
from mchis.reports.tests.registerdata import rec

HEADER = "commune_code,sex,age_band,people\n"
PID = "008194001234"


def who(name: str, born: date, pid: str = "") -> dict[str, Any]:
    return {"full_name": name, "full_name_folded": fold(name), "dob": born, "personal_id": pid}


MAI = who("Lò Thị Mai", date(1986, 3, 3), PID)  # 39 at the end of January 2026


def screen(unit: Any, day: date, person: dict[str, Any], recompute: Any, **fields: Any) -> Any:
    """Write a screening and recompute as the write path would: only its own unit-month is marked."""
    row = rec(R.GynExam, unit, day, **{"place": "at_facility", "via_done": True, **person, **fields})
    mark_months([day.replace(day=1)], [unit.pk])
    recompute()
    return row


def value(unit: Any, pe: str = "202601", dx: str = ELEMENT) -> Any:
    rows = selectors.compute(selectors.parse_dx(dx), selectors.parse_periods(pe), [unit], approved=False).rows
    return rows[0]


def counts(tree: Any, pe: str = "202601") -> tuple[float, ...]:
    """(A1, A2, TTYT A, Sở A, B1, Bộ) for the element."""
    units = (tree.tyt_a1, tree.tyt_a2, tree.ttyt_a, tree.doh_a, tree.tyt_b1, tree.ministry)
    return tuple(value(u, pe).value for u in units)


def test_the_same_woman_screened_three_times_in_five_years_counts_once(tree, forms, recompute):
    for day, age in ((date(2022, 3, 10), 36), (date(2024, 5, 10), 38), (date(2026, 1, 10), 39)):
        screen(tree.tyt_a1, day, MAI, recompute, age_years=age)
    assert counts(tree) == (1, 0, 1, 1, 0, 1)
    # three visits, one woman: the visit count says 3
    visits = selectors.compute(
        selectors.parse_dx("CX_SCREEN.a30_49"), selectors.parse_periods("2022;2024;2026"), [tree.tyt_a1],
        approved=False,
    ).rows  # fmt: skip
    assert [r.value for r in visits] == [1, 1, 1]
    # a month after the first screening and before the second: held since March 2022
    assert counts(tree, "202203") == (1, 0, 1, 1, 0, 1)
    assert women_screened(tree.tyt_a1.pk, date(2026, 1, 1)) == 1


def test_a_woman_screened_in_two_communes_counts_once_nationally_and_in_one_commune_only(
    tree, forms, recompute
):
    screen(tree.tyt_a1, date(2024, 2, 10), MAI, recompute)
    assert counts(tree) == (1, 0, 1, 1, 0, 1)
    # later screened at A2: A2 holds her from October 2025; A1's later months were not written, yet change
    later = screen(tree.tyt_a2, date(2025, 10, 5), MAI, recompute)
    assert counts(tree) == (0, 1, 1, 1, 0, 1)
    assert counts(tree, "202509") == (1, 0, 1, 1, 0, 1)  # before the second screening: still A1's
    # and a third, in another province: Bộ still counts her once
    screen(tree.tyt_b1, date(2025, 12, 1), MAI, recompute)
    assert counts(tree) == (0, 0, 0, 0, 1, 1)
    # the B1 row voided: she goes back to A2, whose months were not written
    R.GynExam.objects.filter(facility=tree.tyt_b1).update(voided_at="2026-01-20T00:00:00Z")
    mark_months([date(2025, 12, 1)], [tree.tyt_b1.pk])
    recompute()
    assert counts(tree) == (0, 1, 1, 1, 0, 1)
    R.GynExam.objects.filter(pk=later.pk).update(voided_at="2026-01-20T00:00:00Z")
    mark_months([date(2025, 10, 1)], [tree.tyt_a2.pk])
    recompute()
    assert counts(tree) == (1, 0, 1, 1, 0, 1)
    assert not DirtyCoverage.objects.exists()


def test_a_screening_61_months_ago_does_not_count(tree, forms, recompute):
    screen(tree.tyt_a1, date(2020, 12, 15), MAI, recompute)  # December 2020: 61 months before January 2026
    assert counts(tree) == (0, 0, 0, 0, 0, 0)
    assert counts(tree, "202511") == (1, 0, 1, 1, 0, 1)  # November 2025: the 60th month of its window
    assert counts(tree, "202512") == (0, 0, 0, 0, 0, 0)  # December 2025: out
    other = who("Hà Thị Lan", date(1980, 1, 1))
    screen(tree.tyt_a2, date(2021, 2, 15), other, recompute)  # February 2021: 59 months before January 2026
    assert counts(tree) == (0, 1, 1, 1, 0, 1)


def test_a_woman_without_personal_id_is_identified_by_name_and_date_of_birth(tree, forms, recompute):
    hoa = who("Lường Thị Hoa", date(1990, 2, 2))  # no personal ID
    screen(tree.tyt_a1, date(2025, 4, 1), hoa, recompute)
    screen(
        tree.tyt_a2, date(2025, 6, 1), {**hoa, "full_name": "LƯỜNG THỊ HOA"}, recompute
    )  # same folded name
    assert counts(tree) == (0, 1, 1, 1, 0, 1)
    # the same name born another day is another woman
    screen(tree.tyt_a1, date(2025, 7, 1), who("Lường Thị Hoa", date(1991, 2, 2)), recompute)
    assert counts(tree) == (1, 1, 2, 2, 0, 2)
    # a row of the first Hoa that carries her personal ID joins her (one ID has that name and date of birth)
    screen(tree.tyt_b1, date(2025, 9, 1), {**hoa, "personal_id": "008190000001"}, recompute)
    assert counts(tree) == (1, 0, 1, 1, 1, 2)


def test_women_outside_30_49_at_the_period_end_and_other_rows_do_not_count(tree, forms, recompute):
    screen(tree.tyt_a1, date(2026, 1, 5), who("Vi Thị Một", date(1996, 2, 1)), recompute)  # 29 on 31 Jan 2026
    screen(
        tree.tyt_a1, date(2026, 1, 5), who("Vi Thị Hai", date(1976, 1, 31)), recompute
    )  # 50 on 31 Jan 2026
    screen(tree.tyt_a1, date(2026, 1, 5), who("Vi Thị Ba", date(1976, 2, 1)), recompute)  # 49 on 31 Jan 2026
    screen(tree.tyt_a1, date(2026, 1, 5), {"full_name": "Vi Thị Bốn"}, recompute)  # no date of birth: no age
    screen(tree.tyt_a1, date(2026, 1, 5), MAI, recompute, via_done=False)  # a gyn visit without screening
    screen(
        tree.tyt_a1, date(2026, 1, 5), who("Vi Thị Năm", date(1986, 1, 1)), recompute, place="other_facility"
    )
    assert counts(tree) == (1, 0, 1, 1, 0, 1)  # Ba only
    # February: Ba is 50 on the 28th, Một 30: Một only
    assert counts(tree, "202602") == (1, 0, 1, 1, 0, 1)
    assert women_screened(tree.tyt_a1.pk, date(2026, 2, 1)) == 1


def _population(tree: Any, people: int) -> None:
    rows = "".join(f"02269,F,{band},{people}\n" for band in ("30_34", "35_39", "40_44", "45_49"))
    population_load(actor=None, text=HEADER + rows, year=2026, source="Mô phỏng (kiểm thử)")


@pytest.mark.parametrize("people", [None, 0])
def test_cx_cov_with_a_zero_or_missing_population_is_undefined(tree, forms, recompute, people):
    if people is not None:
        _population(tree, people)
    screen(tree.tyt_a1, date(2026, 1, 10), MAI, recompute)
    row = value(tree.tyt_a1, dx="CX_COV")
    assert (row.numerator, row.value) == (1, None)  # «không xác định», never an error or infinity
    assert row.denominator == 0


def test_cx_cov_is_women_screened_over_the_population(tree, forms, recompute):
    _population(tree, 50)  # 200 women 30–49 in A1's commune
    for day in (date(2023, 1, 10), date(2026, 1, 10)):
        screen(tree.tyt_a1, day, MAI, recompute)
    screen(tree.tyt_a1, date(2025, 8, 10), who("Hà Thị Lan", date(1980, 1, 1)), recompute)
    row = value(tree.tyt_a1, dx="CX_COV")
    assert (row.numerator, row.denominator, row.value) == (2, 200, 1.0)  # 2 women / 200 × 100, not 3 visits


def test_the_register_write_paths_keep_the_count_current(tree, forms, recompute, make_user):
    """Through the bulk API and the void service (not imitated): a second screening at A2 moves Lan from A1 to
    A2 in every later month, without anything of A1 written; voiding it gives her back to A1."""
    import json

    from django.test import Client

    from mchis.registers.locks import record_void

    def post(unit: Any, key: str, day: str) -> int:
        c = Client()
        c.force_login(make_user("collector", unit))
        lan = {
            "facility": unit.code, "source_system": "hand", "source_record_id": key, "event_date": day,
            "place": "at_facility", "full_name": "Hà Thị Lan", "dob": "1980-01-01", "purpose": "screening",
            "via_done": True, "via_result": "negative",
        }  # fmt: skip
        res = c.post(
            "/api/v1/registers/gyn/records", json.dumps({"records": [lan]}), content_type="application/json"
        )
        assert res.status_code == 200 and res.json()["created"] == 1, res.content.decode()
        return int(R.GynExam.objects.get(facility=unit, source_record_id=key).pk)

    post(tree.tyt_a1, "A1-1", "2024-05-10")
    recompute()
    assert counts(tree) == (1, 0, 1, 1, 0, 1)
    second = post(tree.tyt_a2, "A2-1", "2025-11-20")
    recompute()
    assert counts(tree) == (0, 1, 1, 1, 0, 1)
    assert counts(tree, "202510") == (1, 0, 1, 1, 0, 1)
    record_void(
        actor=make_user("collector", tree.tyt_a2), register="gyn", record_id=second, reason="Ghi nhầm"
    )
    recompute()
    assert counts(tree) == (1, 0, 1, 1, 0, 1)


def test_a_write_reaches_months_up_to_the_current_one_and_each_new_month_is_opened_by_the_sweep(
    tree, forms, recompute, monkeypatch
):
    """A write of this month marks one month per unit, not the 59 still to come (measured at 10.2 M children:
    230 ms per coverage count); the daily sweep counts each new month for every unit holding a screening in
    its window, once."""
    from django.utils import timezone

    from mchis.analytics.store import open_coverage_month

    monkeypatch.setattr(timezone, "localdate", lambda *a: date(2026, 1, 20))
    screen(tree.tyt_a1, date(2026, 1, 10), MAI, recompute)
    assert counts(tree) == (1, 0, 1, 1, 0, 1)
    from mchis.analytics.models import UnitMonthValue

    # not counted before it comes: nothing stored, nothing waiting for February
    assert not UnitMonthValue.objects.filter(month=date(2026, 2, 1), element=ELEMENT).exists()
    assert not DirtyCoverage.objects.exists()
    # when February comes, the sweep opens it for the units holding a screening in its window
    monkeypatch.setattr(timezone, "localdate", lambda *a: date(2026, 2, 1))
    assert open_coverage_month(date(2026, 2, 1)) == 1
    assert set(DirtyCoverage.objects.values_list("unit_id", "month")) == {(tree.tyt_a1.pk, date(2026, 2, 1))}
    recompute()
    assert counts(tree, "202602") == (1, 0, 1, 1, 0, 1)
    assert open_coverage_month(date(2026, 2, 1)) == 0  # once: its count is stored
