"""R-MCH-05: a returned report cannot be missed — the sender is notified with the reason, the home page lists it
with the reason first, and the report page opens with the reason on top. Deadline notices reach the bell."""

from __future__ import annotations

import pytest
from django.test import Client

from mchis.notifications.models import Notification, NotificationKind
from mchis.reports import services as s

from .registerdata import submit

P = "2026-01"


@pytest.fixture(autouse=True)
def _no_login_2fa(settings):
    settings.ROLES_REQUIRING_2FA = []


def test_r_mch_05_returned_report_is_on_top_everywhere(forms, people, tree):
    # given a submitted commune report
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    # when the district returns it with a reason
    s.report_return(actor=people.ttyt_leader, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P,
                    reason="Thiếu số liệu sổ đẻ")  # fmt: skip
    # then the sender is notified, with the reason
    note = Notification.objects.get(recipient=people.tyt_reporter)
    assert note.kind == NotificationKind.RETURNED and note.reason == "Thiếu số liệu sổ đẻ"
    client = Client()
    client.force_login(people.tyt_reporter)
    home = client.get("/").content.decode()
    assert "Thiếu số liệu sổ đẻ" in home and note.url in home
    page = client.get(note.url).content.decode()
    assert page.index('data-testid="return-reason"') < page.index("<h1>")
    assert "Thiếu số liệu sổ đẻ" in page


def test_r_mch_05_approval_notifies_the_sender(forms, people, tree, django_capture_on_commit_callbacks):
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    s.report_approve(actor=people.ttyt_leader, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    assert Notification.objects.get(recipient=people.tyt_reporter).kind == NotificationKind.APPROVED


def test_r_mch_04_deadline_notices_reach_the_bell_once(forms, people, tree):
    from datetime import datetime, timedelta

    from django.utils import timezone

    from mchis.reports.models import ReportNotice

    now = timezone.make_aware(datetime(2026, 2, 4, 9, 0))
    s.reports_send_reminders(now=now)
    s.reports_send_reminders(now=now + timedelta(hours=1))
    notices = ReportNotice.objects.filter(recipient=tree.tyt_a1)
    assert notices.exists()
    mine = Notification.objects.filter(recipient=people.tyt_reporter, kind=NotificationKind.DEADLINE)
    assert mine.count() == notices.count()
