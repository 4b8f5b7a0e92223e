"""Indicator arithmetic against hand-computed values (issue 15): zero denominator, missing units, roll-ups,
disaggregation by age, periods; and the indicator file itself."""

from __future__ import annotations

from datetime import date

import pytest

from mchis.analytics import selectors
from mchis.analytics.definitions import IndicatorError, catalog, parse_expression, parse_indicators
from mchis.analytics.store import mark_months
from mchis.core.errors import DomainError
from mchis.registers import models as R
from mchis.reports.tests.registerdata import rec

JAN = date(2026, 1, 10)
TODAY = date(2026, 3, 15)


def values(dx, pe, units, approved=False):
    items = selectors.parse_dx(dx)
    periods = selectors.parse_periods(pe, today=TODAY)
    result = selectors.compute(items, periods, units, approved=approved)
    return {(r.dx, r.pe, r.ou): r for r in result.rows}


@pytest.fixture
def january(tree, forms, recompute):
    a1, a2 = tree.tyt_a1, tree.tyt_a2
    # TYT A1: 4 deliveries (ages 14, 17, 25, 30), 3 with ANC >= 4 in 3 trimesters, 1 at home, 1 caesarean
    rec(R.Delivery, a1, JAN, place="at_facility", age_years=14, anc_4_in_3_trimesters=True)
    rec(R.Delivery, a1, JAN, place="at_facility", age_years=17, anc_4_in_3_trimesters=True)
    rec(R.Delivery, a1, JAN, place="outside", age_years=25, anc_4_in_3_trimesters=True)
    rec(R.Delivery, a1, JAN, place="at_facility", age_years=30, delivery_mode="caesarean")
    # a resident's delivery served elsewhere (CSYT khác): counted by the facility that served her, not here
    rec(R.Delivery, a1, JAN, place="other_facility", age_years=22, anc_4_in_3_trimesters=True)
    # TYT A2: 1 delivery without ANC4; TYT B1 (another province): 2 deliveries with ANC4
    rec(R.Delivery, a2, JAN, place="at_facility", age_years=21)
    rec(R.Delivery, tree.tyt_b1, JAN, place="at_facility", age_years=21, anc_4_in_3_trimesters=True)
    rec(R.Delivery, tree.tyt_b1, JAN, place="at_facility", age_years=23, anc_4_in_3_trimesters=True)
    mark_months([date(2026, 1, 1)], [a1.pk, a2.pk, tree.tyt_b1.pk, tree.ttyt_a.pk])
    recompute()
    return tree


def test_anc4_hand_counted_per_unit_and_rolled_up(january):
    t = january
    got = values("ANC4;AN.DLV:total", "202601", [t.tyt_a1, t.tyt_a2, t.ttyt_a, t.doh_a, t.ministry])
    assert got[("ANC4", "202601", "TYT02269")].value == 75.0  # 3 / 4 × 100
    assert got[("ANC4", "202601", "TYT02269")].numerator == 3
    assert got[("ANC4", "202601", "TYT02269")].denominator == 4
    assert got[("ANC4", "202601", "TYT02296")].value == 0.0  # 0 / 1
    assert got[("ANC4", "202601", "TTYT08-01")].value == 60.0  # 3 / 5
    assert got[("ANC4", "202601", "SYT08")].value == 60.0
    assert got[("ANC4", "202601", "BYT")].value == pytest.approx(71.43)  # (3 + 2) / (5 + 2)
    assert got[("AN.DLV:total", "202601", "BYT")].value == 7


def test_zero_denominator_is_undefined_not_an_error(january):
    t = january
    got = values("ANC4;CS;MMR", "202602", [t.tyt_a1])  # February: nothing recorded
    for dx in ("ANC4", "CS", "MMR"):
        row = got[(dx, "202602", "TYT02269")]
        assert row.value is None and row.denominator == 0


def test_missing_unit_counts_zero_and_ratio_undefined(january):
    t = january
    got = values("ANC4;AN.DLV:total", "202601", [t.ttyt_b])  # no register rows of its own, one station below
    assert got[("AN.DLV:total", "202601", "TTYT04-01")].value == 2
    got = values("ANC4;AN.DLV:total", "202601", [t.cdc_b])
    assert got[("ANC4", "202601", "CDC04")].value == 100.0


def test_age_disaggregation_follows_who_bands(january):
    t = january
    got = values("ANC4.a10_14;ANC4.a15_19;ANC4.a20p", "202601", [t.tyt_a1])
    assert got[("ANC4.a10_14", "202601", "TYT02269")].value == 100.0  # 1 / 1
    assert got[("ANC4.a15_19", "202601", "TYT02269")].value == 100.0  # 1 / 1
    assert (
        got[("ANC4.a20p", "202601", "TYT02269")].value == 50.0
    )  # 1 / 2 (the 22-year-old elsewhere excluded)


def test_quarter_sums_numerators_and_denominators(january):
    t = january
    got = values("ANC4;FAC_DLV;CS", "2026Q1", [t.tyt_a1])
    assert got[("ANC4", "2026Q1", "TYT02269")].value == 75.0
    assert got[("FAC_DLV", "2026Q1", "TYT02269")].value == 75.0  # (4 − 1 at home) / 4
    assert got[("CS", "2026Q1", "TYT02269")].value == 25.0


def test_report_cells_roll_up_without_counting_other_facility_twice(january):
    t = january
    # BCT4 column 7 (deliveries) over the province = CDC + BCH4 filers + BCX3 total − "CSYT khác"
    got = values("BCT4.T:7;BCX3.I.5:total", "202601", [t.doh_a, t.tyt_a1])
    assert got[("BCT4.T:7", "202601", "SYT08")].value == 5
    assert got[("BCX3.I.5:total", "202601", "TYT02269")].value == 5  # the form's own count keeps "CSYT khác"


def test_periods_relative_and_refusals():
    pe = selectors.parse_periods("LAST_12_MONTHS", today=TODAY)
    assert [p.id for p in pe][:2] == ["202503", "202504"] and pe[-1].id == "202602" and len(pe) == 12
    assert [p.id for p in selectors.parse_periods("THIS_YEAR;LAST_YEAR", today=TODAY)] == ["2026", "2025"]
    assert selectors.parse_periods("THIS_YEAR", today=TODAY)[0].months[-1] == date(2026, 3, 1)
    assert [p.id for p in selectors.parse_periods("LAST_3_MONTHS", today=TODAY)] == [
        "202512",
        "202601",
        "202602",
    ]
    assert [p.id for p in selectors.parse_periods("THIS_MONTH;LAST_MONTH;2026-01", today=TODAY)] == [
        "202603",
        "202602",
        "202601",
    ]
    with pytest.raises(DomainError, match="tương lai"):
        selectors.parse_periods("202604", today=TODAY)
    with pytest.raises(DomainError, match="tương lai"):
        selectors.parse_periods("2027", today=TODAY)
    with pytest.raises(DomainError, match="không hợp lệ"):
        selectors.parse_periods("2026-13", today=TODAY)


def test_unknown_indicator_refused_with_its_code(db):
    with pytest.raises(DomainError, match="'NOPE'"):
        selectors.parse_dx("ANC4;NOPE")
    with pytest.raises(DomainError, match="ANC4.a99"):
        selectors.parse_dx("ANC4.a99")


def test_selection_over_the_cell_limit_is_refused_with_the_limit():
    with pytest.raises(DomainError, match="tối đa 50.000 ô") as exc:
        selectors.check_size(30, 36, 100)
    assert exc.value.code == "selection_too_large"


def test_indicator_file_lists_what_the_issue_names():
    ids = {i.id for i in catalog().indicators}
    assert {
        "ANC4",
        "ANC1_T1",
        "TT",
        "HIV_TEST",
        "SYPH_TEST",
        "HEPB_TEST",
        "FAC_DLV",
        "SBA",
        "CS",
        "LBW",
        "PNC_1W",
        "PNC_6W",
        "FP_NEW",
        "AB_LE7",
        "AB_8_12",
        "AB_GT12",
        "CX_SCREEN",
        "U5_UW",
        "U5_ST",
        "U5_WA",
        "U5_OW",
        "MMR",
        "NMR",
        "IMR",
        "U5MR",
        "FETAL",
        "COMPLETENESS",
        "TIMELINESS",
    } <= ids
    assert len([i for i in ids if i.startswith("DQ_")]) == 6
    who = {i.who_reference for i in catalog().indicators if i.who_reference.startswith("WHO SMART ANC")}
    assert who == {f"WHO SMART ANC.IND.{n:02d}" for n in (1, 3, 4, 5, 12)}
    for ind in catalog().indicators:
        assert ind.definition and ind.name_en and ind.definition_en
        if ind.who_reference.startswith("WHO SMART"):
            assert ind.disaggregations == ("a10_14", "a15_19", "a20p") and ind.who_difference


def test_bad_expressions_and_files_are_refused():
    with pytest.raises(IndicatorError, match="không hợp lệ"):
        parse_expression("AN.DLV:total +")
    with pytest.raises(IndicatorError, match="không phải dấu"):
        parse_expression("AN.DLV:total * 2")
    bad = {"format": "mchis.indicators/1", "indicators": [{"id": "X", "name": "x", "definition": "d",
           "numerator": "AN.NOPE:total", "factor": 1}]}  # fmt: skip
    with pytest.raises(IndicatorError, match="AN.NOPE"):
        parse_indicators(bad, set())
