"""R-MCH-08 (issue 12.7): one event, one truth across registers. A stillbirth in the delivery register is a fetal
death whether or not the death register holds it, and is counted once when both do; a maternal death marked
in a delivery outcome likewise. A data-quality rule lists the events the two registers disagree on."""

from __future__ import annotations

from datetime import date

import pytest

from mchis.core.errors import ValidationFailed
from mchis.registers import models as R
from mchis.reports import services as s
from mchis.reports.selectors import disagreements, report_view, unit_rows

from .registerdata import JAN, fill_required, newborn, rec, submit

P = "2026-01"
MOTHER = {"full_name": "Lò Thị Mai", "full_name_folded": "lo thi mai", "dob": date(1995, 3, 4)}


def stillbirth(unit, day=JAN, place="at_facility", **mother):
    d = rec(R.Delivery, unit, day, place=place, gestational_age_weeks=30, **(mother or MOTHER))
    newborn(d, 1, outcome="stillbirth", sex="F")
    return d


def fetal_death(unit, day=JAN, place="at_facility", **mother):
    return rec(
        R.Death, unit, day, place=place, death_kind="fetal", gestational_age_weeks=30, **(mother or MOTHER)
    )


def cells(people, tree, code="BCX3", unit=None):
    return report_view(people.tyt_reporter, code, (unit or tree.tyt_a1).code, P).values


def test_r_mch_08_stillbirth_in_the_delivery_register_counts_without_a_death_record(forms, people, tree):
    stillbirth(tree.tyt_a1)
    v = cells(people, tree)
    assert (v["III.9:total"], v["III.9:tyt"], v["III.9:out"], v["III.9:other"]) == (1, 1, 0, 0)
    assert v["III.1:total"] == 0  # not a live birth


def test_r_mch_08_stillbirth_in_both_registers_counts_once(forms, people, tree):
    stillbirth(tree.tyt_a1, JAN)
    fetal_death(tree.tyt_a1, date(2026, 1, 11))  # recorded a day later in the death register: same event
    assert cells(people, tree)["III.9:total"] == 1


def test_r_mch_08_two_days_apart_or_another_woman_are_two_events(forms, people, tree):
    stillbirth(tree.tyt_a1, JAN)
    fetal_death(tree.tyt_a1, date(2026, 1, 12))  # two days later: not the same event
    other = {**MOTHER, "dob": date(1996, 3, 4)}
    stillbirth(tree.tyt_a1, date(2026, 1, 20), **other)
    fetal_death(tree.tyt_a1, date(2026, 1, 20), **{**MOTHER, "personal_id": "001195000001"})
    stillbirth(tree.tyt_a1, date(2026, 1, 20), **{**MOTHER, "personal_id": "001195000002"})  # IDs differ
    assert cells(people, tree)["III.9:total"] == 5


def test_r_mch_08_personal_id_matches_even_when_the_names_differ(forms, people, tree):
    stillbirth(tree.tyt_a1, JAN, **{**MOTHER, "personal_id": "001195000001"})
    fetal_death(
        tree.tyt_a1, JAN, full_name="Lo Thi Mai", full_name_folded="lo thi mai a", personal_id="001195000001"
    )
    assert cells(people, tree)["III.9:total"] == 1


def test_r_mch_08_home_fetal_death_only_in_the_death_register_counts(forms, people, tree):
    fetal_death(tree.tyt_a1, place="outside")
    v = cells(people, tree)
    assert (v["III.9:total"], v["III.9:out"]) == (1, 1)
    assert disagreements(report_view(people.tyt_reporter, "BCX3", tree.tyt_a1.code, P)) == []


def test_r_mch_08_maternal_death_in_a_delivery_outcome_counts_once(forms, people, tree):
    rec(R.Delivery, tree.tyt_a1, JAN, place="at_facility", maternal_death=True, **MOTHER)
    assert cells(people, tree)["I.10:total"] == 1
    rec(R.Death, tree.tyt_a1, JAN, place="at_facility", death_kind="maternal", **MOTHER)
    v = cells(people, tree)
    assert (v["I.10:total"], v["I.10:tyt"]) == (1, 1)


def test_r_mch_08_voided_stillbirth_leaves_the_fetal_death_to_the_death_register(forms, people, tree):
    d = stillbirth(tree.tyt_a1)
    fetal_death(tree.tyt_a1)
    R.Delivery.objects.filter(pk=d.pk).update(voided_at="2026-01-15T00:00:00Z", void_reason="nhầm")
    assert cells(people, tree)["III.9:total"] == 1


def test_r_mch_08_district_unit_rows_count_the_stillbirth_once(forms, people, tree):
    stillbirth(tree.tyt_a1)
    fetal_death(tree.tyt_a1)
    stillbirth(tree.ttyt_a)  # the TTYT's own ward: only in its delivery register
    submit(
        actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P, warning_comment="x"
    )
    s.report_approve(actor=people.ttyt_leader, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    view = report_view(people.ttyt_reporter, "BCH8", tree.ttyt_a.code, P)
    rows = {r.id: r.values or {} for r in unit_rows(view)}
    assert rows[tree.tyt_a1.code]["9"] == 1 and rows[tree.ttyt_a.code]["9"] == 1
    assert view.values["T:9"] == 2


def test_r_mch_08_registers_disagreeing_are_flagged_and_need_an_explanation(forms, people, tree):
    stillbirth(tree.tyt_a1, JAN)  # no death record
    fetal_death(
        tree.tyt_a1, date(2026, 1, 20), **{**MOTHER, "dob": date(1990, 1, 1)}
    )  # at the TYT, no delivery
    rec(R.Delivery, tree.tyt_a1, JAN, place="at_facility", maternal_death=True, full_name="Hà Thị Lan",
        full_name_folded="ha thi lan", dob=date(1988, 1, 1))  # fmt: skip
    view = report_view(people.tyt_reporter, "BCX3", tree.tyt_a1.code, P)
    assert [d.rule for d in disagreements(view)] == [
        "stillbirth-not-in-death-register",
        "fetal-death-not-in-delivery-register",
        "maternal-death-not-in-death-register",
    ]
    fill_required(people.tyt_reporter, "BCX3", tree.tyt_a1.code, P)
    with pytest.raises(ValidationFailed, match="cảnh báo") as exc:
        s.report_submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    rules = {p["rule"] for p in exc.value.errors}
    assert "R-MCH-08:stillbirth-not-in-death-register" in rules
    r = s.report_submit(
        actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P,
        warning_comment="Sổ tử vong sẽ bổ sung",
    )  # fmt: skip
    assert r.snapshot is not None
    assert {w["rule"] for w in r.snapshot["warnings"]} >= {"R-MCH-08:maternal-death-not-in-death-register"}


def test_r_mch_08_agreeing_registers_raise_nothing(forms, people, tree):
    stillbirth(tree.tyt_a1, JAN)
    fetal_death(tree.tyt_a1, JAN)
    rec(
        R.Delivery,
        tree.tyt_a1,
        JAN,
        place="at_facility",
        maternal_death=True,
        **{**MOTHER, "dob": date(1990, 5, 5)},
    )
    rec(
        R.Death,
        tree.tyt_a1,
        JAN,
        place="at_facility",
        death_kind="maternal",
        **{**MOTHER, "dob": date(1990, 5, 5)},
    )
    assert disagreements(report_view(people.tyt_reporter, "BCX3", tree.tyt_a1.code, P)) == []
