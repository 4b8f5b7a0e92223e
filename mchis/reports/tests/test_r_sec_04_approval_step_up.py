"""R-SEC-04 (issue 13 item 6): approving a report is a critical action. Without a second-factor check in the
step-up window the service refuses and nothing changes; the page sends the leader to the prompt and, after the
check, sends the approval again (with its note) so it completes; the API answers 403 `step_up_required`."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mchis.accounts.permissions import CRITICAL_ACTIONS
from mchis.accounts.testing import enrol_totp, not_stepped_up, stepped_up, totp_code
from mchis.core.errors import StepUpRequired
from mchis.registers.models import PeriodLock
from mchis.reports import services as s
from mchis.reports.models import ReportInstance, ReportStatus

from .registerdata import submit

P = "2026-01"


def _submitted(people, tree) -> None:
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)


def _status(tree) -> str:
    return ReportInstance.objects.get(unit=tree.tyt_a1, form__code="BCX3").status


def test_r_sec_04_report_approval_is_a_critical_action():
    assert "report.approve" in CRITICAL_ACTIONS


def test_r_sec_04_approval_without_a_recent_second_factor_changes_nothing(forms, people, tree, settings):
    _submitted(people, tree)
    too_old = timezone.now() - timedelta(seconds=settings.STEP_UP_WINDOW_SECONDS + 5)
    for context in (not_stepped_up(), stepped_up(too_old)):
        with context, pytest.raises(StepUpRequired, match="xác thực lại"):
            s.report_approve(actor=people.ttyt_leader, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    assert _status(tree) == ReportStatus.SUBMITTED
    assert not PeriodLock.objects.filter(unit=tree.tyt_a1).exists()


def test_r_sec_04_approving_on_the_page_asks_the_second_factor_then_completes(forms, people, tree):
    # given a submitted commune report and its district leader with an authenticator, not stepped up
    _submitted(people, tree)
    device, _ = enrol_totp(people.ttyt_leader)
    client = Client()
    client.force_login(people.ttyt_leader)
    url = f"/reports/BCX3/{tree.tyt_a1.code}/{P}/act/approve/"
    # when the leader presses "Duyệt" with a note
    first = client.post(url, {"reason": "Số liệu khớp sổ"})
    # then the step-up prompt comes first and the report is not approved yet
    assert first.status_code == 302 and first["Location"].startswith(reverse("accounts:step_up"))
    assert _status(tree) == ReportStatus.SUBMITTED
    # when the code is given, the approval (with its note) is sent again as typed
    back = client.post(first["Location"], {"code": totp_code(device, ahead=1), "next": url})
    page = back.content.decode()
    assert back.status_code == 200 and f'action="{url}"' in page
    assert 'name="reason" value="Số liệu khớp sổ"' in page
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', page))
    done = client.post(url, {k: v for k, v in fields.items() if k != "csrfmiddlewaretoken"})
    # then the report is approved and the month locked
    assert done.status_code == 302 and _status(tree) == ReportStatus.APPROVED
    assert PeriodLock.objects.filter(unit=tree.tyt_a1).exists()


def test_r_sec_04_api_approval_answers_step_up_required(forms, people, tree):
    _submitted(people, tree)
    client = Client()
    client.force_login(people.ttyt_leader)
    r = client.post(
        f"/api/v1/reports/BCX3/{tree.tyt_a1.code}/{P}/approve", {}, content_type="application/json"
    )
    assert r.status_code == 403 and r.json()["code"] == "step_up_required"
    assert _status(tree) == ReportStatus.SUBMITTED
