"""Pure validation per register (R-MCH-01): no database, a hand-built context."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mchis.registers.catalogs import fallback
from mchis.registers.definitions import REGISTERS
from mchis.registers.validation import (
    Context,
    FacilityRef,
    abortion_band,
    is_adolescent,
    is_ethnic_minority,
    parse_date,
    row_hash,
    validate_record,
)

TODAY = date(2026, 3, 15)


def ctx() -> Context:
    eth = fallback()["ethnicity"]["items"]
    methods = fallback()["contraceptive-method"]["items"]
    return Context(
        today=TODAY,
        facilities={"TYT1": FacilityRef(1, "TYT1", "/1/2/")},
        catalog_codes={
            "ethnicity": frozenset(i["code"] for i in eth),
            "contraceptive-method": frozenset(i["code"] for i in methods),
            "icd10": None,
        },
        catalog_names={"ethnicity": {"kinh": "01", "tay": "02"}},
    )


def base(**over):
    rec = {
        "facility": "TYT1",
        "source_record_id": "r1",
        "event_date": "10/03/2026",
        "place": "at_facility",
        "full_name": "Lê Thị A",
    }
    rec.update(over)
    return rec


def errors_of(register, rec):
    out = validate_record(REGISTERS[register], rec, ctx())
    return {e["field"]: e["reason"] for e in out.errors}, out


def test_r_mch_01_anc_derives_month_adolescent_minority_trimester():
    errs, out = errors_of("anc", base(dob="15/06/2008", ethnicity_code="Tày", gestational_age_weeks=30))
    assert errs == {}
    c = out.clean
    assert c["month"] == date(2026, 3, 1)
    assert c["age_years"] == 17 and c["is_adolescent"] is True
    assert c["ethnicity_code"] == "02" and c["is_ethnic_minority"] is True
    assert c["trimester"] == 3


def test_r_mch_01_anc_result_without_test_rejected():
    errs, _ = errors_of("anc", base(hiv_result="positive"))
    assert "hiv_result" in errs and "xét nghiệm HIV" in errs["hiv_result"]


def test_r_mch_01_future_date_unknown_facility_bad_catalog():
    errs, _ = errors_of("anc", base(event_date="20/03/2026", facility="NOPE", ethnicity_code="99"))
    assert "tương lai" in errs["event_date"]
    assert "NOPE" in errs["facility"]
    assert "99" in errs["ethnicity_code"]


def test_r_mch_01_woman_registers_refuse_male():
    errs, _ = errors_of("gyn", base(sex="M"))
    assert "phụ nữ" in errs["sex"]


def test_r_mch_01_delivery_newborns_and_derived_flags():
    rec = base(
        gestational_age_weeks=35,
        delivery_mode="normal",
        attendant="village_midwife",
        anc_visits=4,
        anc_all_trimesters=True,
        newborns=[
            {"sex": "M", "weight_grams": 2300, "outcome": "live"},
            {"sex": "F", "weight_grams": 4100, "outcome": "live"},
        ],
    )
    errs, out = errors_of("delivery", rec)
    assert errs == {}
    assert out.clean["skilled_attendant"] is False and out.clean["attended_by_health_worker"] is True
    assert out.clean["anc_4_in_3_trimesters"] is True
    a, b = out.newborns
    assert a["low_birth_weight"] and a["is_preterm"] and a["weighed"]
    assert b["high_birth_weight"] and b["birth_order"] == 2


def test_r_mch_01_delivery_needs_a_newborn_and_consistent_hiv():
    errs, _ = errors_of("delivery", base(hiv_arv_treated=True, newborns=[]))
    assert "newborns" in errs and "hiv_arv_treated" in errs
    errs, _ = errors_of("delivery", base(newborns=[{"outcome": "stillbirth", "vitamin_k1": True}]))
    assert "newborns[0].vitamin_k1" in errs


def test_r_mch_01_abortion_bands():
    assert [abortion_band(w) for w in (7, 8, 12, 13)] == ["le_7", "w8_12", "w8_12", "gt_12"]
    errs, out = errors_of("abortion", base(gestational_age_weeks=6, method="medical"))
    assert errs == {} and out.clean["gestational_band"] == "le_7"
    errs, _ = errors_of("abortion", base())
    assert "bắt buộc" in errs["gestational_age_weeks"]


def test_r_mch_01_gyn_screening_consistency():
    errs, _ = errors_of("gyn", base(via_result="positive", hpv_positive=True))
    assert "via_result" in errs and "hpv_positive" in errs
    errs, out = errors_of("gyn", base(via_done="x", via_result="Nghi ngờ ung thư", purpose="screening"))
    assert errs == {} and out.clean["via_result"] == "suspect_cancer"


def test_r_mch_01_contraception_method_catalog_and_sex():
    errs, _ = errors_of("contraception", base(method_code="iud", sex="M"))
    assert "method_code" in errs
    errs, out = errors_of("contraception", base(method_code="sterilisation", sex="M", is_new_user=True))
    assert errs == {} and out.clean["sex"] == "M" and out.clean["is_new_user"] is True
    errs, _ = errors_of("contraception", base(method_code="magic"))
    assert "method_code" in errs


def test_r_mch_01_child_exam_who_zscores():
    rec = base(dob="01/03/2025", sex="M", weight_kg="7,0", height_cm=72)
    errs, out = errors_of("child_exam", rec)
    assert errs == {}
    c = out.clean
    assert c["age_months"] == 12
    assert c["waz"] is not None and c["waz"] < -2 and c["underweight"] is True
    assert c["haz"] is not None and -2 < c["haz"] < 0 and c["stunted"] is False
    assert c["weight_kg"] == Decimal("7.0")


def test_r_mch_01_child_exam_over_six_and_missing_sex():
    errs, _ = errors_of("child_exam", base(dob="01/01/2019", weight_kg=20))
    assert "6 tuổi" in errs["dob"] and "sex" in errs


def test_r_mch_08_death_kinds_and_icd10():
    errs, out = errors_of("death", base(death_kind="child", dob="01/03/2026", sex="F", icd10_code="p21.0"))
    assert errs == {}
    assert out.clean["icd10_code"] == "P21.0" and out.clean["under_7d"] is False and out.clean["under_28d"]
    errs, _ = errors_of("death", base(death_kind="fetal", icd10_code="XYZ"))
    assert "icd10_code" in errs and "gestational_age_weeks" in errs
    errs, out = errors_of(
        "death", base(death_kind="maternal", icd10_code="O72", obstetric_complication="haemorrhage")
    )
    assert errs == {} and out.clean["sex"] == "F"


def test_unknown_field_rejected():
    errs, _ = errors_of("anc", base(colour="red"))
    assert "colour" in errs


def test_r_mch_01_adolescent_and_minority_predicates():
    assert [is_adolescent(a) for a in (9, 10, 19, 20, None)] == [False, True, True, False, False]
    assert is_ethnic_minority("02") and not is_ethnic_minority("01") and not is_ethnic_minority("")
    assert not is_ethnic_minority("55")


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_dates_dmy_iso_and_excel_serial(day):
    assert parse_date(day.strftime("%d/%m/%Y")) == day
    assert parse_date(day.isoformat()) == day
    assert parse_date((day - date(1899, 12, 30)).days) == day


def test_row_hash_changes_with_content():
    _, a = errors_of("anc", base())
    _, b = errors_of("anc", base(note="x"))
    assert row_hash(a.clean, a.newborns) != row_hash(b.clean, b.newborns)
    _, a2 = errors_of("anc", base())
    assert row_hash(a.clean, a.newborns) == row_hash(a2.clean, a2.newborns)


@pytest.mark.parametrize("text", ["31/02/2026", "2026/13/01", "abc"])
def test_bad_dates_named(text):
    errs, _ = errors_of("anc", base(dob=text))
    assert "Ngày sinh" in errs["dob"]


def test_legacy_text_normalised_in_records():
    errs, out = errors_of("anc", base(full_name="TrÇn ThÞ Hoa", address="Traàn Höng Ñaïo"))
    assert errs == {}
    assert out.clean["full_name"] == "Trần Thị Hoa" and out.clean["address"] == "Trần Hưng Đạo"
    assert out.clean["full_name_folded"] == "tran thi hoa"


def _delivery(**over):
    rec = base(event_date="01/03/2026", delivery_mode="normal", attendant="midwife",
               newborns=[{"outcome": "live", "sex": "F"}])  # fmt: skip
    rec.update(over)
    return rec


def test_postpartum_visits_derive_the_days_to_the_first_visit():
    errs, out = errors_of("delivery", _delivery(postpartum_week1_date="03/03/2026",
                                                postpartum_week2_6_date="2026-03-12"))  # fmt: skip
    assert errs == {}
    assert out.clean["postpartum_first_days"] == 2  # 01/03 → 03/03
    errs, out = errors_of("delivery", _delivery(postpartum_week2_6_date="2026-03-08"))
    assert errs == {} and out.clean["postpartum_first_days"] == 7  # only the week 2–6 visit, on day 7
    errs, out = errors_of("delivery", _delivery(postpartum_week1_date="01/03/2026"))
    assert errs == {} and out.clean["postpartum_first_days"] == 0  # visited on the day of the birth
    errs, out = errors_of("delivery", _delivery())
    assert errs == {} and out.clean["postpartum_first_days"] is None


def test_postpartum_visit_before_the_birth_refused_with_both_dates():
    errs, _ = errors_of("delivery", _delivery(postpartum_week1_date="27/02/2026"))
    assert errs["postpartum_week1_date"] == (
        "Ngày chăm sóc sau sinh tuần đầu (27/02/2026): trước ngày đẻ 01/03/2026 2 ngày; "
        "chăm sóc sau sinh phải từ ngày đẻ trở đi."
    )


def test_postpartum_visit_after_42_days_refused():
    errs, _ = errors_of("delivery", _delivery(event_date="20/01/2026", postpartum_week2_6_date="10/03/2026"))
    assert errs["postpartum_week2_6_date"] == (
        "Ngày chăm sóc sau sinh từ tuần 2 đến hết 6 tuần (10/03/2026): 49 ngày sau ngày đẻ 20/01/2026, "
        "quá 42 ngày của thời kỳ sau sinh."
    )


def test_postpartum_visit_outside_its_own_window_refused():
    errs, _ = errors_of("delivery", _delivery(postpartum_week1_date="11/03/2026"))
    assert errs["postpartum_week1_date"] == (
        "Ngày chăm sóc sau sinh tuần đầu (11/03/2026): 10 ngày sau ngày đẻ 01/03/2026; "
        "lần chăm sóc tuần đầu phải trong 0–7 ngày sau đẻ."
    )
    errs, _ = errors_of("delivery", _delivery(postpartum_week2_6_date="03/03/2026"))
    assert "2 ngày sau ngày đẻ 01/03/2026" in errs["postpartum_week2_6_date"]
    assert "phải trong 7–42 ngày sau đẻ" in errs["postpartum_week2_6_date"]
    errs, _ = errors_of("delivery", _delivery(postpartum_week1_date="16/03/2026"))
    assert errs["postpartum_week1_date"].endswith("không được ở tương lai.")


def test_postpartum_days_left_out_of_the_fingerprint():
    _, out = errors_of("delivery", _delivery(postpartum_week1_date="03/03/2026"))
    before = dict(out.clean)
    before.pop("postpartum_first_days")
    assert row_hash(out.clean, out.newborns) == row_hash(before, out.newborns)


def test_r_org_03_shared_catalog_codes_accepted():
    from mchis.registers.catalogs import code_ok

    errs, out = errors_of("contraception", base(method_code="DCTC", is_new_user=True))
    assert errs == {} and out.clean["method_code"] == "iud"
    shared = frozenset({"O00-O08", "O72", "P20-P29"})
    assert (
        code_ok("icd10", "O03.9", shared)
        and code_ok("icd10", "O72.1", shared)
        and code_ok("icd10", "P21", shared)
    )
    assert not code_ok("icd10", "A09", shared) and not code_ok("icd10", "O9", shared)
    assert code_ok("icd10", "A09", None)


# --- R-MCH-03: no silent defaults (issue 12 item 5) -----------------------------------------------------------


def delivery_rec(**over):
    rec = base(delivery_mode="normal", attendant="midwife", newborns=[{"sex": "F", "outcome": "live"}])
    rec.update(over)
    return rec


def test_r_mch_03_blank_skilled_attendant_is_an_error_never_midwife():
    # when the attendant is left blank
    errs, _ = errors_of("delivery", delivery_rec(attendant=""))
    # then the record is refused with a precise message
    assert errs == {"attendant": "Người đỡ đẻ: bắt buộc."}


def test_r_mch_03_explicit_unknown_attendant_counts_as_not_skilled():
    errs, out = errors_of("delivery", delivery_rec(attendant="Không rõ"))
    assert errs == {}
    assert out.clean["attendant"] == "unknown"
    assert out.clean["skilled_attendant"] is False and out.clean["attended_by_health_worker"] is False


@pytest.mark.parametrize(
    ("register", "field", "rec"),
    [
        ("anc", "place", base(place="")),
        ("delivery", "delivery_mode", delivery_rec(delivery_mode="")),
        ("delivery", "newborns[0].outcome", delivery_rec(newborns=[{"sex": "F"}])),
        ("abortion", "method", base(gestational_age_weeks=6)),
        ("gyn", "purpose", base(purpose=None)),
        ("contraception", "is_new_user", base(method_code="iud")),
    ],
)
def test_r_mch_03_fields_the_reports_count_on_are_never_guessed(register, field, rec):
    # when a field a report cell filters on is blank
    errs, _ = errors_of(register, rec)
    # then it is an error on that field, not a default (at facility, normal, live, vacuum, treatment, new user)
    assert field in errs and "bắt buộc" in errs[field]


def test_r_mch_03_male_sterilisation_keeps_its_sex_from_the_method_code():
    # when a vasectomy comes as the shared code without a sex
    errs, out = errors_of("contraception", base(method_code="TRIET_SAN_NAM", is_new_user=True))
    # then it is a male sterilisation (row II.3.6), not a woman's
    assert errs == {} and out.clean["method_code"] == "sterilisation" and out.clean["sex"] == "M"
    errs, out = errors_of("contraception", base(method_code="TRIET_SAN_NU", is_new_user=True))
    assert errs == {} and out.clean["sex"] == "F"
    # and a sex contradicting the code, or a sterilisation without either, is refused
    errs, _ = errors_of("contraception", base(method_code="TRIET_SAN_NAM", sex="F", is_new_user=True))
    assert "mâu thuẫn" in errs["sex"]
    errs, _ = errors_of("contraception", base(method_code="sterilisation", is_new_user=True))
    assert "triệt sản" in errs["sex"]
    # a condom user of unknown sex stays unknown (not guessed female)
    errs, out = errors_of("contraception", base(method_code="condom", is_new_user=True))
    assert errs == {} and out.clean["sex"] == "U"


def test_r_mch_03_modern_method_comes_from_the_catalog_alone():
    from mchis.registers.catalogs import _shipped_modern_flags, contraceptive_aliases

    # given the shipped catalog, where KHAC ("Biện pháp khác") is not modern
    assert _shipped_modern_flags()["KHAC"] is False
    # when KHAC is recorded, then it is stored as a non-modern method (not counted in II.3 / II.3.8)
    errs, out = errors_of("contraception", base(method_code="KHAC", is_new_user=True))
    assert errs == {} and out.clean["method_code"] == "traditional"
    # and if the catalog called it modern, the same code would be "other modern"
    assert contraceptive_aliases({"KHAC": True})["KHAC"] == "other_modern"
    # a code the catalog says is not modern is never one of the modern register codes
    assert contraceptive_aliases({"DCTC": False})["DCTC"] == "traditional"


# --- R-MCH-03: completed age (issue 12 item 10) --------------------------------------------------------------


def test_r_mch_03_child_exam_at_exactly_12_months_and_at_6_years():
    errs, out = errors_of("child_exam", base(dob="10/03/2025", sex="F", weight_kg="9,0", height_cm=74))
    assert errs == {} and out.clean["age_months"] == 12
    errs, _ = errors_of("child_exam", base(dob="10/03/2020", sex="F", weight_kg=20))
    assert "6 tuổi" in errs["dob"]
    errs, out = errors_of("child_exam", base(dob="11/03/2020", sex="F", weight_kg=20, height_cm=110))
    assert "dob" not in errs and out.clean["age_months"] == 71


def test_r_mch_03_child_death_on_first_birthday_is_not_under_one():
    errs, out = errors_of("death", base(death_kind="child", dob="10/03/2025", sex="F", icd10_code="P21.0"))
    assert errs == {} and out.clean["under_1y"] is False and out.clean["under_5y"] is True


def test_r_mch_03_adolescent_band_from_completed_years():
    _, out = errors_of("anc", base(dob="11/03/2016"))  # 9 years, 364 days
    assert out.clean["age_years"] == 9 and out.clean["is_adolescent"] is False
    _, out = errors_of("anc", base(dob="10/03/2016"))  # exactly 10
    assert out.clean["age_years"] == 10 and out.clean["is_adolescent"] is True


def _parse_date_by_regex(text: str) -> tuple[str, object]:
    """parse_date of a text as it was before its ISO shortcut (issue 20): the two regexes only."""
    from mchis.registers import validation as v

    text = text.strip()
    if not text:
        return ("ok", None)
    try:
        match = v._DMY.match(text)
        if match:
            return ("ok", date(int(match.group(3)), int(match.group(2)), int(match.group(1))))
        match = v._ISO.match(text)
        if match:
            return ("ok", date(int(match.group(1)), int(match.group(2)), int(match.group(3))))
    except ValueError:
        return ("error", "ngày không tồn tại")
    return ("error", "ngày phải theo dạng dd/mm/yyyy")


_DATE_PIECES = st.sampled_from(
    ["-", "/", ".", " ", "T", "0", "1", "2", "9", "3", "12", "31", "2026", "٣", "a"]
)


@given(
    st.lists(_DATE_PIECES, max_size=8).map("".join)
    | st.dates().map(date.isoformat)
    | st.tuples(st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99)).map(
        lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}"
    )
)
def test_parse_date_iso_shortcut_reads_what_the_regexes_read(text):
    try:
        got: tuple[str, object] = ("ok", parse_date(text))
    except Exception as exc:  # _Err
        got = ("error", getattr(exc, "message", str(exc)))
    assert got == _parse_date_by_regex(text)
