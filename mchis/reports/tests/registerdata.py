"""Hand-built register rows for the report tests (inserted directly; derived flags set by hand)."""

from __future__ import annotations

from datetime import date
from itertools import count
from typing import Any

from mchis.registers import models as R

_ids = count(1)


def rec(model: Any, unit: Any, day: date, **fields: Any) -> Any:
    return model.objects.create(
        facility=unit, event_date=day, month=day.replace(day=1), source_record_id=f"t{next(_ids)}", **fields
    )


def newborn(delivery: Any, order: int, **fields: Any) -> Any:
    return R.Newborn.objects.create(
        delivery=delivery,
        facility=delivery.facility,
        month=delivery.month,
        event_date=delivery.event_date,
        place=delivery.place,
        birth_order=order,
        **fields,
    )


TYT, OUT, OTHER = "at_facility", "outside", "other_facility"
ON = {"full_name": "Lường Thị Ơn", "full_name_folded": "luong thi on", "dob": date(1994, 4, 4)}  # d3's mother
JAN = date(2026, 1, 10)


def january_dataset(unit: Any, other_unit: Any) -> None:
    """The commune dataset whose every cell is hand-counted in test_r_mch_03_commune_cells_hand_counted."""
    # antenatal care
    rec(
        R.AncVisit, unit, JAN, place=TYT, is_new_pregnancy=True, is_adolescent=True, urine_protein_tested=True
    )
    rec(R.AncVisit, unit, JAN, place=TYT, is_new_pregnancy=True)
    rec(R.AncVisit, unit, JAN, place=OUT, urine_protein_tested=True)
    rec(R.AncVisit, unit, JAN, place=OTHER)
    rec(R.AncVisit, unit, date(2026, 2, 1), place=TYT, is_new_pregnancy=True)  # next month
    rec(R.AncVisit, other_unit, JAN, place=TYT, is_new_pregnancy=True)  # another commune
    # deliveries and newborns
    d1 = rec(
        R.Delivery,
        unit,
        JAN,
        place=TYT,
        is_adolescent=True,
        is_ethnic_minority=True,
        anc_managed=True,
        anc_4_in_3_trimesters=True,
        hepb_tested_pregnancy=True,
        hiv_tested_pregnancy=True,
        attended_by_health_worker=True,
        skilled_attendant=True,
        comp_haemorrhage=True,
        postpartum_week1_date=date(2026, 1, 20),
        delivery_mode="normal",
    )
    newborn(
        d1,
        1,
        outcome="live",
        sex="M",
        weight_grams=2400,
        weighed=True,
        low_birth_weight=True,
        vitamin_k1=True,
        birth_certificate=True,
        eenc=True,
    )
    d2 = rec(
        R.Delivery,
        unit,
        JAN,
        place=OUT,
        hepb_tested_labour=True,
        syphilis_tested_pregnancy=True,
        syphilis_positive=True,
        glucose_tested=True,
        glucose_high=True,
        attended_by_health_worker=True,
        attendant="village_midwife",
        postpartum_week2_6_date=date(2026, 1, 28),
        delivery_mode="normal",
    )
    newborn(
        d2,
        1,
        outcome="live",
        sex="F",
        weight_grams=4200,
        weighed=True,
        high_birth_weight=True,
        is_preterm=True,
        asphyxia=True,
        is_ethnic_minority=True,
    )
    d3 = rec(
        R.Delivery,
        unit,
        JAN,
        place=OTHER,
        delivery_mode="caesarean",
        skilled_attendant=True,
        attended_by_health_worker=True,
        hiv_tested_pregnancy=True,
        hiv_positive=True,
        hiv_confirmed_in_pregnancy=True,
        postpartum_week1_date=date(2026, 2, 3),
        **ON,
    )
    newborn(d3, 1, outcome="live", sex="F", eenc=True, birth_certificate=True)
    newborn(d3, 2, outcome="stillbirth", sex="M")
    # the stillborn twin is in the death register too: the same event (counted once, issue 12.7)
    rec(R.Death, unit, JAN, place=OTHER, death_kind="fetal", gestational_age_weeks=30, **ON)
    # a December delivery whose 2-6 week home visit falls in January
    rec(R.Delivery, unit, date(2025, 12, 20), place=TYT, postpartum_week2_6_date=date(2026, 1, 5))
    # abortions
    rec(
        R.Abortion,
        unit,
        JAN,
        place=TYT,
        gestational_age_weeks=6,
        gestational_band="le_7",
        is_adolescent=True,
        complication=True,
    )
    rec(R.Abortion, unit, JAN, place=OUT, gestational_age_weeks=9, gestational_band="w8_12")
    # gynaecology
    rec(
        R.GynExam,
        unit,
        JAN,
        place=TYT,
        via_done=True,
        via_result="positive",
        pap_sample_sent=True,
        treated=True,
    )
    rec(
        R.GynExam,
        unit,
        JAN,
        place=TYT,
        purpose="screening",
        via_done=True,
        via_result="suspect_cancer",
        hpv_sample_sent=True,
    )
    rec(R.GynExam, unit, JAN, place=OUT, treated=True, hpv_vaccinated=True)
    # contraception
    rec(R.Contraception, unit, JAN, place=TYT, method_code="iud", is_new_user=True)
    rec(R.Contraception, unit, JAN, place=TYT, method_code="sterilisation", is_new_user=True, sex="M")
    rec(R.Contraception, unit, JAN, place=OUT, method_code="condom", is_new_user=True)
    rec(R.Contraception, unit, JAN, place=TYT, method_code="pill", is_new_user=False)
    rec(R.Contraception, unit, JAN, place=TYT, method_code="traditional", is_new_user=True)
    rec(R.Contraception, unit, JAN, place=OTHER, method_code="implant", is_new_user=True, complication=True)
    # deaths
    rec(
        R.Death,
        unit,
        JAN,
        place=TYT,
        death_kind="maternal",
        obstetric_complication="haemorrhage",
        maternal_death_reviewed=True,
    )
    rec(R.Death, unit, JAN, place=OUT, death_kind="fetal", gestational_age_weeks=30)
    rec(
        R.Death,
        unit,
        JAN,
        place=OTHER,
        death_kind="child",
        under_7d=True,
        under_28d=True,
        under_1y=True,
        under_5y=True,
        is_ethnic_minority=True,
    )
    rec(R.Death, unit, JAN, place=OUT, death_kind="child", under_5y=True, age_days=900)


# Every non-zero cell of BCX3 for january_dataset (+ manual I.1 = 10, I.1.1 = 1); all other cells are 0.
EXPECTED = {
    "I.1:total": 10,
    "I.1.1:total": 1,
    "I.2:total": 2,
    "I.2.1:total": 1,
    "I.3:total": 4,
    "I.3:tyt": 2,
    "I.3:out": 1,
    "I.4:total": 2,
    "I.4:tyt": 1,
    "I.4:out": 1,
    "I.5:total": 3,
    "I.5:tyt": 1,
    "I.5:out": 1,
    "I.5:other": 1,
    "I.5.1a:total": 1,
    "I.5.1a:tyt": 1,
    "I.5.1b:total": 1,
    "I.5.1b:tyt": 1,
    "I.5.1c:total": 1,
    "I.5.1c:tyt": 1,
    "I.5.2:total": 1,
    "I.5.2:tyt": 1,
    "I.5.2a:total": 1,
    "I.5.2a:tyt": 1,
    "I.5.3:total": 2,
    "I.5.3:tyt": 1,
    "I.5.3:out": 1,
    "I.5.3a:total": 1,
    "I.5.3a:tyt": 1,
    "I.5.3b:total": 1,
    "I.5.3b:out": 1,
    "I.5.4:total": 1,
    "I.5.4:out": 1,
    "I.5.4a:total": 1,
    "I.5.4a:out": 1,
    "I.5.4c:total": 1,
    "I.5.4c:out": 1,
    "I.5.5a:total": 2,
    "I.5.5a:tyt": 1,
    "I.5.5a:other": 1,
    "I.5.6:total": 1,
    "I.5.6:other": 1,
    "I.5.7:total": 1,
    "I.5.7:other": 1,
    "I.5.8:total": 1,
    "I.5.8:out": 1,
    "I.5.8a:total": 1,
    "I.5.8a:out": 1,
    "I.5.9b:total": 3,
    "I.5.9b:tyt": 1,
    "I.5.9b:out": 1,
    "I.5.9b:other": 1,
    "I.5.9c:total": 2,
    "I.5.9c:tyt": 1,
    "I.5.9c:other": 1,
    "I.6:total": 2,
    "I.6:tyt": 1,
    "I.6:other": 1,
    "I.7:total": 3,
    "I.8.1:total": 1,
    "I.8.2:total": 2,
    "I.9:c_total": 2,
    "I.9:c_tyt": 2,
    "I.9:d_total": 1,
    "I.9:d_tyt": 1,
    "I.9.1:c_total": 1,
    "I.9.1:c_tyt": 1,
    "I.9.1:d_total": 1,
    "I.9.1:d_tyt": 1,
    "I.9.6:c_total": 1,
    "I.9.6:c_tyt": 1,
    "I.10:total": 1,
    "I.10:tyt": 1,
    "I.10.1:total": 1,
    "I.10.1:tyt": 1,
    "II.1:total": 3,
    "II.1:tyt": 2,
    "II.1:out": 1,
    "II.1.1:total": 2,
    "II.1.1:tyt": 2,
    "II.1.2:total": 1,
    "II.1.2:tyt": 1,
    "II.1.3:total": 1,
    "II.1.3:tyt": 1,
    "II.1.4:total": 1,
    "II.1.4:tyt": 1,
    "II.1.5:total": 1,
    "II.1.5:tyt": 1,
    "II.2:total": 2,
    "II.2:tyt": 1,
    "II.2:out": 1,
    "II.2.2:total": 1,
    "II.2.2:out": 1,
    "II.3:total": 4,
    "II.3:tyt": 2,
    "II.3:out": 1,
    "II.3.1:total": 1,
    "II.3.1:tyt": 1,
    "II.3.3:total": 1,
    "II.3.5:total": 1,
    "II.3.5:tyt": 1,
    "II.3.6:total": 1,
    "II.3.6:tyt": 1,
    "II.3.7:total": 1,
    "II.3.7:out": 1,
    "II.4:total": 1,
    "II.5:total": 2,
    "II.5:tyt": 1,
    "II.5:out": 1,
    "II.5.1:total": 1,
    "II.5.1:tyt": 1,
    "II.5.2:total": 1,
    "II.5.2:tyt": 1,
    "III.1:total": 3,
    "III.1:tyt": 1,
    "III.1:out": 1,
    "III.1:other": 1,
    "III.1.1m:total": 1,
    "III.1.1m:tyt": 1,
    "III.1.1f:total": 2,
    "III.1.1f:out": 1,
    "III.1.1f:other": 1,
    "III.1.2:total": 1,
    "III.1.2:out": 1,
    "III.2:total": 2,
    "III.2:tyt": 1,
    "III.2:other": 1,
    "III.2a:total": 1,
    "III.2a:tyt": 1,
    "III.2b:total": 1,
    "III.2b:other": 1,
    "III.3:total": 1,
    "III.3:out": 1,
    "III.4:total": 1,
    "III.4:out": 1,
    "III.5:total": 2,
    "III.5:tyt": 1,
    "III.5:out": 1,
    "III.6:total": 1,
    "III.6:tyt": 1,
    "III.7:total": 1,
    "III.7:out": 1,
    "III.8.1:total": 1,
    "III.8.1:tyt": 1,
    # the stillborn twin of d3 (delivery register, another facility) and the fetal death at home (death
    # register, no name to match): two events (issue 12.7: a stillbirth counts without a death record)
    "III.9:total": 2,
    "III.9:out": 1,
    "III.9:other": 1,
    "III.10:total": 1,
    "III.10:other": 1,
    "III.11:total": 1,
    "III.11:other": 1,
    "III.12:total": 1,
    "III.12:other": 1,
    "III.12.1:total": 1,
    "III.12.1:other": 1,
    "III.13:total": 2,
    "III.13:out": 1,
    "III.13:other": 1,
    "III.13.1:total": 1,
    "III.13.1:other": 1,
}


def fill_required(actor: Any, form_code: str, unit_code: str, period: str, value: int = 0) -> None:
    """The unit types `value` into every required manual cell still empty (a precondition of submitting:
    empty manual cells block submission, R-MCH-05). Does nothing for someone who may not edit the report."""
    from mchis.accounts.permissions import can
    from mchis.reports import selectors
    from mchis.reports import services as s
    from mchis.reports.models import ReportStatus

    view = selectors.report_view(actor, form_code, unit_code, period)
    if (
        getattr(actor, "unit_id", None) != view.unit.pk
        or not can(actor, "report.edit")
        or view.status not in (ReportStatus.DRAFT, ReportStatus.RETURNED)
    ):
        return
    empty = s.empty_required_cells(view.spec, view.report.manual_values or {})
    if empty:
        s.report_set_manual_values(
            actor=actor,
            form_code=form_code,
            unit_code=unit_code,
            period=period,
            values=dict.fromkeys(empty, value),
        )


def submit(*, actor: Any, form_code: str, unit_code: str, period: str, **kw: Any) -> Any:
    """report_submit after the unit filled its required manual cells (fill_required)."""
    from mchis.reports import services as s

    fill_required(actor, form_code, unit_code, period)
    return s.report_submit(actor=actor, form_code=form_code, unit_code=unit_code, period=period, **kw)
