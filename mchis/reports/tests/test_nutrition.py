"""Issue 12.8 (R-MCH-03): child nutrition rows of BCX3 (III.14–III.18) and BCH8 (columns 14–18b) from the
child-exam register: the WHO 2006 z-scores computed when the exam is written feed underweight / stunting /
wasting / overweight, by sex and age band (< 5 years, < 2 years in completed months)."""

from __future__ import annotations

import json

from django.test import Client

from mchis.reports import services as s
from mchis.reports.selectors import report_view, unit_rows

from .registerdata import submit

P = "2026-01"


def exam(facility, rid, *, sex, dob, day, kg, cm, lying=True):
    return {
        "facility": facility, "source_system": "his-x", "source_record_id": rid, "event_date": day,
        "place": "at_facility", "full_name": f"Trẻ {rid}", "dob": dob, "sex": sex,
        "weight_kg": kg, "height_cm": cm, "measured_lying": lying,
    }  # fmt: skip


def post(user, records):
    c = Client()
    c.force_login(user)
    r = c.post(
        "/api/v1/registers/child_exam/records",
        json.dumps({"records": records}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["rejected"] == 0, r.content
    return r.json()


def test_r_mch_03_nutrition_rows_from_the_child_exam_register(forms, people, tree, make_user):
    collector = make_user("collector", tree.tyt_a1)
    a1 = tree.tyt_a1.code
    post(
        collector,
        [
            # girl, 12 months, 5.5 kg, 65 cm: far below −2 SD weight-for-age and length-for-age; 5.5 kg at
            # 65 cm is below −2 SD weight-for-length too (WHO girls 65 cm: −2 SD ≈ 5.9 kg)
            exam(a1, "N1", sex="F", dob="2025-01-15", day="2026-01-15", kg=5.5, cm=65),
            # boy, exactly 24 months (not "< 2 years"), 16 kg at 86 cm: weight-for-height above +2 SD
            exam(a1, "N2", sex="M", dob="2024-01-20", day="2026-01-20", kg=16, cm=86),
            # boy, 12 months, 9.6 kg, 75.7 cm: the WHO medians, nothing flagged
            exam(a1, "N3", sex="M", dob="2025-01-10", day="2026-01-10", kg=9.6, cm=75.7),
            # girl, 5 years exactly (60 completed months): in the register (under 6) but not in the < 5 rows
            exam(a1, "N4", sex="F", dob="2021-01-12", day="2026-01-12", kg=10, cm=95, lying=False),
            # another month: not counted
            exam(a1, "N5", sex="F", dob="2025-01-15", day="2026-02-15", kg=5.5, cm=65),
        ],
    )
    v = report_view(people.tyt_reporter, "BCX3", a1, P).values
    hand = {
        "III.14:total": 3, "III.14.1:total": 1,
        "III.15:total": 1, "III.15.1:total": 1, "III.15.2:total": 1,
        "III.16:total": 1, "III.16.1:total": 1, "III.16.2:total": 1,
        "III.17:total": 1, "III.17.1:total": 1, "III.17.2:total": 1,
        "III.18:total": 1, "III.18.1:total": 0, "III.18.2:total": 0,
    }  # fmt: skip
    assert {k: v[k] for k in hand} == hand
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=a1, period=P, warning_comment="ok")
    s.report_approve(actor=people.ttyt_leader, form_code="BCX3", unit_code=a1, period=P)
    view = report_view(people.ttyt_reporter, "BCH8", tree.ttyt_a.code, P)
    row = {r.id: r.values for r in unit_rows(view)}[a1]
    assert row is not None
    cols = {"14": 3, "14a": 1, "15": 1, "15a": 1, "15b": 1, "16": 1, "16a": 1, "16b": 1,
            "17": 1, "17a": 1, "17b": 1, "18": 1, "18a": 0, "18b": 0}  # fmt: skip
    assert {c: row[c] for c in cols} == cols
    assert {c: view.values[f"T:{c}"] for c in cols} == cols
