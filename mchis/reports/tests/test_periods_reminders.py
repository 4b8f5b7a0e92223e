"""R-MCH-04: periods, deadlines by level, timeliness from submission, reminders and escalation."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.core import mail
from hypothesis import given
from hypothesis import strategies as st

from mchis.reports import services as s
from mchis.reports.models import NoticeKind, ReportNotice
from mchis.reports.periods import VN, Period, deadline, deadline_days_for, parse_period
from mchis.reports.selectors import report_view, status_board

from .registerdata import submit


def test_r_mch_04_month_runs_from_0000_day_1_to_2400_last_day():
    p = parse_period("2024-02")
    assert p.starts_at == datetime(2024, 2, 1, 0, 0, tzinfo=VN)
    assert p.ends_at == datetime(2024, 3, 1, 0, 0, tzinfo=VN)  # 24:00 on 29 Feb (leap year)
    assert p.end == date(2024, 2, 29) and p.dhis2 == "202402" and p.adx == "2024-02-01/P1M"
    y = parse_period("2025")
    assert (y.type, y.end, y.adx) == ("yearly", date(2025, 12, 31), "2025-01-01/P1Y")
    for bad in ("2025-13", "25-01", "", "2025-1", "abcd"):
        with pytest.raises(ValueError, match=r"Kỳ báo cáo '.*' không hợp lệ"):
            parse_period(bad)


def test_r_mch_04_deadlines_by_level():
    p = parse_period("2026-01")
    assert deadline(p, deadline_days_for("commune", "tyt")) == datetime(
        2026, 2, 6, 0, 0, tzinfo=VN
    )  # 24:00 on 5 Feb
    assert deadline_days_for("district", "ttyt") == 15
    assert deadline_days_for("district", "prov_hospital") == 15
    assert deadline_days_for("province", "cdc") == 25
    assert deadline_days_for("commune", "tyt", override=7) == 7


@given(st.integers(2000, 2099), st.integers(1, 12))
def test_r_mch_04_previous_and_deadline_are_consistent(year, month):
    p = Period(date(year, month, 1), "monthly")
    assert p.previous(1).ends_at == p.starts_at
    assert deadline(p, 5) > p.ends_at


def test_r_mch_04_timeliness_is_measured_from_submission_time(forms, people, tree):
    from django.utils import timezone

    from mchis.reports.models import ReportInstance

    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period="2026-01")
    r = ReportInstance.objects.get()
    on_time = datetime(2026, 2, 5, 23, 59, tzinfo=VN)
    late = datetime(2026, 2, 6, 0, 0, tzinfo=VN)
    ReportInstance.objects.filter(pk=r.pk).update(first_submitted_at=on_time)
    assert report_view(people.ttyt_leader, "BCX3", tree.tyt_a1.code, "2026-01").late is False
    ReportInstance.objects.filter(pk=r.pk).update(first_submitted_at=late)
    assert report_view(people.ttyt_leader, "BCX3", tree.tyt_a1.code, "2026-01").late is True
    rows = status_board(people.ttyt_leader, tree.ttyt_a, parse_period("2026-01"), status="late")
    # A1 submitted late; A2 never submitted and the deadline has passed (now > Feb 2026)
    assert timezone.now() > late
    assert {(r.unit.code, r.form_code) for r in rows if r.form_code == "BCX3"} == {
        (tree.tyt_a1.code, "BCX3"),
        (tree.tyt_a2.code, "BCX3"),
    }


def test_r_mch_04_reminders_before_overdue_after_and_escalation_to_the_level_above(
    forms, people, tree, django_capture_on_commit_callbacks
):
    people.tyt_reporter.email = "a1@example.vn"
    people.tyt_reporter.save()
    people.ttyt_leader.email = "ttyt@example.vn"
    people.ttyt_leader.save()
    submit(actor=people.tyt2_reporter, form_code="BCX3", unit_code=tree.tyt_a2.code, period="2026-01")
    before = datetime(2026, 2, 4, 9, 0, tzinfo=VN)
    with django_capture_on_commit_callbacks(execute=True):
        r = s.reports_send_reminders(now=before)
    notes = ReportNotice.objects.filter(form_code="BCX3", period_start=date(2026, 1, 1))
    # TYT B1 (the other province) is reminded too; TYT A2 has submitted
    assert {(n.recipient.code, n.kind) for n in notes} == {
        (tree.tyt_a1.code, NoticeKind.REMINDER),
        (tree.tyt_b1.code, NoticeKind.REMINDER),
    }
    assert r.reminders >= 1 and any("a1@example.vn" in m.to for m in mail.outbox)
    assert s.reports_send_reminders(now=before).reminders == 0  # idempotent
    after = datetime(2026, 2, 10, 9, 0, tzinfo=VN)
    with django_capture_on_commit_callbacks(execute=True):
        s.reports_send_reminders(now=after)
    kinds = {(n.recipient.code, n.kind) for n in notes.all()}
    assert (tree.tyt_a1.code, NoticeKind.OVERDUE) in kinds and (
        tree.ttyt_a.code,
        NoticeKind.ESCALATION,
    ) in kinds
    assert not any(n.about_unit_id == tree.tyt_a2.pk for n in notes.all())  # A2 submitted
    assert any("ttyt@example.vn" in m.to for m in mail.outbox)
