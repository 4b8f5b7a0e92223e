"""R-MCH-03 / R-MCH-07: report cells computed from the registers, frozen on submission, rolled up the tree."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mchis.core.errors import ValidationFailed
from mchis.registers import models as R
from mchis.reports import services as s
from mchis.reports.periods import parse_period
from mchis.reports.selectors import build_view, form_in_force, outlier_flags, report_view

from .registerdata import EXPECTED, JAN, january_dataset, rec, submit

P = "2026-01"


def test_r_mch_03_commune_cells_hand_counted(forms, people, tree):
    january_dataset(tree.tyt_a1, tree.tyt_a2)
    s.report_set_manual_values(
        actor=people.tyt_reporter,
        form_code="BCX3",
        unit_code=tree.tyt_a1.code,
        period=P,
        values={"I.1:total": 10, "I.1.1:total": 1},
    )
    view = report_view(people.tyt_reporter, "BCX3", tree.tyt_a1.code, P)
    assert len(view.values) == 318 + 14  # + the 14 nutrition rows (issue 12.8), one column each
    wrong = {k: (v, EXPECTED.get(k, 0)) for k, v in view.values.items() if v != EXPECTED.get(k, 0)}
    assert wrong == {}
    assert set(EXPECTED) <= set(view.values)


def test_r_mch_03_one_query_per_register_not_per_cell(forms, people, tree):
    january_dataset(tree.tyt_a1, tree.tyt_a2)
    form = form_in_force("BCX3", date(2026, 1, 1))
    form.parsed()
    with CaptureQueriesContext(connection) as ctx:
        from mchis.reports.compute import register_values

        register_values(form.parsed(), [tree.tyt_a1.pk], parse_period(P))
    # the unit's province (two small queries: named in each statement, ADR 0075), then anc, delivery, delivery
    # by week-1 date, delivery by week-2..6 date, newborn, abortion, gyn, contraception, death, child_exam
    assert len(ctx.captured_queries) == 2 + 10


def test_r_mch_03_register_change_shows_in_draft_at_once(forms, people, tree):
    before = report_view(people.tyt_reporter, "BCX3", tree.tyt_a1.code, P).values["I.5:total"]
    rec(R.Delivery, tree.tyt_a1, JAN, place="at_facility")
    after = report_view(people.tyt_reporter, "BCX3", tree.tyt_a1.code, P).values["I.5:total"]
    assert (before, after) == (0, 1)


def test_r_mch_05_submission_freezes_values_with_checksum(forms, people, tree):
    january_dataset(tree.tyt_a1, tree.tyt_a2)
    r = submit(
        actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P, warning_comment="x"
    )
    rec(R.Delivery, tree.tyt_a1, JAN, place="at_facility")  # after submission
    view = report_view(people.ttyt_leader, "BCX3", tree.tyt_a1.code, P)
    assert not view.live and view.values["I.5:total"] == 3
    from mchis.reports.selectors import checksum

    assert checksum(view.values) == r.snapshot_checksum


def test_r_mch_05_warning_needs_a_comment(forms, people, tree):
    d = rec(R.Delivery, tree.tyt_a1, JAN, place="at_facility")
    R.Newborn.objects.create(
        delivery=d, facility=d.facility, month=d.month, event_date=d.event_date, outcome="stillbirth"
    )
    with pytest.raises(
        ValidationFailed, match=r"Báo cáo có cảnh báo: nhập giải thích \(warning_comment\) để gửi\."
    ) as exc:
        submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    # the stillbirth has no fetal-death record either (R-MCH-08 register agreement)
    assert [e["rule"] for e in exc.value.errors] == [
        "births-vs-deliveries",
        "R-MCH-08:stillbirth-not-in-death-register",
    ]
    r = submit(
        actor=people.tyt_reporter,
        form_code="BCX3",
        unit_code=tree.tyt_a1.code,
        period=P,
        warning_comment="Thai chết lưu",
    )
    assert r.warning_comment == "Thai chết lưu" and r.snapshot is not None
    assert r.snapshot["warnings"][0]["rule"] == "births-vs-deliveries"


def test_r_mch_07_upper_level_sums_approved_children_and_own_data_and_lists_missing(forms, people, tree):
    january_dataset(tree.tyt_a1, tree.tyt_a2)  # TYT A2 has one ANC visit but never submits
    rec(R.Delivery, tree.ttyt_a, JAN, place="at_facility", delivery_mode="caesarean")  # the TTYT's own ward
    submit(
        actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P, warning_comment="x"
    )
    view = report_view(people.ttyt_reporter, "BCH4", tree.ttyt_a.code, P)
    assert view.values["T:7"] == 1  # A1 submitted but not approved yet: only the TTYT's own delivery
    s.report_approve(actor=people.ttyt_leader, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    view = report_view(people.ttyt_reporter, "BCH4", tree.ttyt_a.code, P)
    # column 17 (caesareans): the TTYT's own + A1's (from A1's registers: BCX3 has no such cell)
    assert view.values["T:7"] == 3 + 1 and view.values["T:17"] == 1 + 1 and view.values["T:3"] == 2
    assert [c.unit.code for c in view.missing] == [tree.tyt_a2.code]
    # province: CDC sums the TTYT's approved BCH4
    submit(actor=people.ttyt_reporter, form_code="BCH4", unit_code=tree.ttyt_a.code, period=P)
    s.report_approve(actor=people.cdc_leader, form_code="BCH4", unit_code=tree.ttyt_a.code, period=P)
    prov = report_view(people.cdc_reporter, "BCT4", tree.cdc_a.code, P)
    assert prov.values["T:7"] == 4 and prov.missing == []


def test_r_mch_07_reports_are_scoped_to_the_subtree(forms, people, tree):
    from django.http import Http404

    with pytest.raises(Http404, match=r"Không tìm thấy\."):
        report_view(people.tyt_reporter, "BCH4", tree.ttyt_a.code, P)  # a commune cannot read its TTYT
    with pytest.raises(Http404, match=r"Không tìm thấy\."):
        report_view(people.ttyt_b_leader, "BCX3", tree.tyt_a1.code, P)
    assert report_view(people.dept_leader, "BCX3", tree.tyt_a1.code, P).unit == tree.tyt_a1


def test_r_mch_05_outliers_against_own_history(forms, people, tree):
    from mchis.reports.models import ReportInstance, ReportStatus
    from mchis.reports.selectors import checksum

    form = form_in_force("BCX3", date(2025, 1, 1))
    for m, n in zip(range(1, 13), [3, 4, 3, 5, 4, 3, 4, 4, 3, 5, 4, 3], strict=True):
        vals = {"I.5:total": n}
        ReportInstance.objects.create(
            form=form,
            unit=tree.tyt_a1,
            period_start=date(2025, m, 1),
            period_type="monthly",
            status=ReportStatus.SUBMITTED,
            snapshot={"values": vals},
            snapshot_checksum=checksum(vals),
        )
    for _ in range(30):
        rec(R.Delivery, tree.tyt_a1, JAN, place="at_facility")
    view = build_view(form, tree.tyt_a1, parse_period(P))
    flags = outlier_flags(view)
    assert {f.method for f in flags["I.5:total"]} == {"z-score", "modified z-score", "min-max"}
    assert "I.3:total" not in flags


def test_r_mch_07_bulk_rollup_matches_the_per_unit_computation(forms, people, tree):
    january_dataset(tree.tyt_a1, tree.tyt_a2)
    rec(R.Delivery, tree.ttyt_a, JAN, place="at_facility")
    from mchis.reports.selectors import rollup

    out = rollup(parse_period(P))
    single = report_view(people.tyt_reporter, "BCX3", tree.tyt_a1.code, P).values
    assert out[("BCX3", tree.tyt_a1.pk)] == single
    assert out[("BCH4", tree.ttyt_a.pk)]["T:7"] == 3 + 1  # A1's deliveries + the TTYT's own
    assert out[("BCT4", tree.cdc_a.pk)]["T:7"] == 4
    assert out[("BCT4", tree.cdc_b.pk)]["T:7"] == 0
