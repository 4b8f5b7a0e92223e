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
    # BCT4 column 7 (deliveries) over the province, as the reports count it (ADR 0077): A1's 4 + A2's 1 + A1's
    # resident delivered at a facility outside the system (its "CSYT khác": matched with no facility here, so
    # counted once, through A1) = 6
    got = values("BCT4.T:7;BCX3.I.5:total", "202601", [t.doh_a, t.tyt_a1])
    assert got[("BCT4.T:7", "202601", "SYT08")].value == 6
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
    banded = {"format": "mchis.indicators/1", "indicators": [{"id": "X", "name": "x", "definition": "d",
              "numerator": "AN.DLV:total", "factor": 1, "disaggregations": ["a20p"]}]}  # fmt: skip
    with pytest.raises(IndicatorError, match="phân tổ nên tử số phải dùng '\\{col\\}'"):
        parse_indicators(banded, {"AN.DLV:total", "AN.DLV:a20p"})


def _pnc_delivery(rid: str, day: str, dob: str, **visits: str) -> dict:
    from mchis.registers.tests.conftest import delivery

    return delivery(rid=rid, event_date=day, dob=dob, full_name=f"Hà Thị {rid}", **visits)


@pytest.fixture
def postnatal(tree, forms, recompute, make_user):
    """Six January deliveries at TYT A1 written through the bulk API (the validator derives the days from the
    birth to the first postnatal visit from the two dates the register records):

    | rec | born  | age | first-week visit | week 2–6 visit | first visit | ≤2 d | ≤7 d | ≤42 d |
    | P1  | 10/01 | 30  | 10/01 (day 0)    |                | 0           | yes  | yes  | yes   |
    | P2  | 10/01 | 16  | 12/01 (day 2)    |                | 2           | yes  | yes  | yes   |
    | P3  | 10/01 | 30  | 13/01 (day 3)    | 25/01 (15)     | 3           | no   | yes  | yes   |
    | P4  | 10/01 | 30  |                  | 05/02 (day 26) | 26          | no   | no   | yes   |
    | P5  | 10/01 | 16  |                  |                | —           | no   | no   | no    |
    | P6  | 30/01 | 30  | 01/02 (day 2)    |                | 2           | yes  | yes  | yes   |

    P6's visit falls in February: the indicator counts women by the month they gave birth (January).
    """
    from mchis.registers.services import records_upsert

    collector = make_user("collector", tree.tyt_a1)
    w, g = "1995-03-01", "2009-06-01"  # 30 and 16 years old in January 2026
    records = [
        _pnc_delivery("P1", "2026-01-10", w, postpartum_week1_date="2026-01-10"),
        _pnc_delivery("P2", "2026-01-10", g, postpartum_week1_date="2026-01-12"),
        _pnc_delivery(
            "P3", "2026-01-10", w, postpartum_week1_date="2026-01-13", postpartum_week2_6_date="2026-01-25"
        ),
        _pnc_delivery("P4", "2026-01-10", w, postpartum_week2_6_date="2026-02-05"),
        _pnc_delivery("P5", "2026-01-10", g),
        _pnc_delivery("P6", "2026-01-30", w, postpartum_week1_date="2026-02-01"),
    ]
    result = records_upsert(actor=collector, register="delivery", records=records, today=TODAY)
    assert result.rejected == 0, result.conflicts
    recompute()
    return collector


def test_postnatal_care_within_2_days_and_6_weeks_hand_counted(tree, postnatal):
    got = values(
        "PNC_2D;PNC_1W;PNC_6W;PNC_2D.a15_19;PNC_2D.a20p;PNC_6W.a20p",
        "202601;202602",
        [tree.tyt_a1, tree.doh_a],
    )
    assert sorted(
        R.Delivery.objects.order_by("source_record_id").values_list(
            "source_record_id", "postpartum_first_days"
        )
    ) == [("P1", 0), ("P2", 2), ("P3", 3), ("P4", 26), ("P5", None), ("P6", 2)]
    for ou in ("TYT02269", "SYT08"):
        pnc2 = got[("PNC_2D", "202601", ou)]
        assert (pnc2.numerator, pnc2.denominator, pnc2.value) == (3, 6, 50.0)  # P1, P2, P6
        assert got[("PNC_1W", "202601", ou)].value == pytest.approx(66.67)  # 4 / 6: P1, P2, P3, P6
        assert got[("PNC_6W", "202601", ou)].value == pytest.approx(83.33)  # 5 / 6: all but P5
    assert got[("PNC_2D.a15_19", "202601", "TYT02269")].value == 50.0  # P2 of P2, P5
    assert got[("PNC_2D.a20p", "202601", "TYT02269")].value == 50.0  # P1, P6 of P1, P3, P4, P6
    assert got[("PNC_6W.a20p", "202601", "TYT02269")].value == 100.0  # 4 / 4
    # February: visits made, but nobody gave birth there → undefined, not 0 % and not 100 %
    assert got[("PNC_2D", "202602", "TYT02269")].value is None


def test_postnatal_care_within_2_days_follows_an_edited_visit_date(tree, postnatal, recompute):
    from mchis.registers.services import records_upsert

    assert values("PNC_2D", "202601", [tree.tyt_a1])[("PNC_2D", "202601", "TYT02269")].numerator == 3
    # P3's first-week visit was in fact on the day after the birth: it now counts within 2 days
    fixed = _pnc_delivery(
        "P3",
        "2026-01-10",
        "1995-03-01",
        postpartum_week1_date="2026-01-11",
        postpartum_week2_6_date="2026-01-25",
    )
    assert records_upsert(actor=postnatal, register="delivery", records=[fixed], today=TODAY).rejected == 0
    recompute()
    got = values("PNC_2D", "202601", [tree.tyt_a1])
    assert got[("PNC_2D", "202601", "TYT02269")].numerator == 4


def test_cervical_screening_is_a_count_of_visits_with_the_who_target_ages(tree, forms, recompute):
    """No population denominator exists (docs/analytics.md, known gaps): the indicator is a count, named so,
    with the 30–49 band WHO's coverage indicator targets."""
    a1 = tree.tyt_a1
    for age, screen in (
        (25, {"via_done": True}),
        (35, {"pap_sample_sent": True}),
        (45, {"hpv_sample_sent": True}),
        (49, {"via_done": True, "pap_sample_sent": True}),  # one visit, two tests: counted once
        (52, {"via_done": True}),
        (40, {}),  # a gynaecological visit without screening
    ):
        rec(R.GynExam, a1, JAN, place="at_facility", age_years=age, **screen)
    rec(R.GynExam, a1, JAN, place="other_facility", age_years=33, via_done=True)  # counted where it was done
    mark_months([date(2026, 1, 1)], [a1.pk])
    recompute()
    got = values("CX_SCREEN;CX_SCREEN.a30_49", "202601", [a1, tree.doh_a])
    assert got[("CX_SCREEN", "202601", "TYT02269")].value == 5  # ages 25, 35, 45, 49, 52
    assert got[("CX_SCREEN.a30_49", "202601", "TYT02269")].value == 3  # ages 35, 45, 49
    assert got[("CX_SCREEN.a30_49", "202601", "SYT08")].value == 3
    ind = catalog().by_id["CX_SCREEN"]
    assert ind.name.startswith("Số lượt") and "Tỷ lệ" not in ind.name
    assert ind.denominator == "" and ind.factor == 1 and ind.factor_label == "lượt"
