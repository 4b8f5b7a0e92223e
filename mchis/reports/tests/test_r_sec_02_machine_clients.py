"""R-SEC-02 (issue 12 item 9) and the workflow's check order: a machine client may read reports and exports but
every workflow action is a person's act (403 `person_required`, never 500); a wrong role is refused (403)
before the report's state is looked at (no 409 that tells a stranger the state)."""

from __future__ import annotations

import pytest
from django.test import Client

from mchis.accounts.models import ApiClient
from mchis.accounts.services import api_client_create
from mchis.core.errors import PermissionDeniedError
from mchis.reports import services as s
from mchis.reports.models import ReportInstance, ReportStatus

P = "2026-01"
ALL_REPORT_SCOPES = [
    "report.view",
    "report.edit",
    "report.submit",
    "report.recall",
    "report.request_unapproval",
    "report.approve",
    "report.return",
    "report.unapprove",
    "report.export",
]


def token_for(unit, scopes: list[str]) -> str:
    client, token = api_client_create(actor=None, name=f"his-{unit.code}", unit=unit, scopes=["report.view"])
    ApiClient.objects.filter(pk=client.pk).update(scopes=scopes)  # as a token issued before the restriction
    return token


@pytest.mark.parametrize(
    ("action", "unit_attr"),
    [
        ("submit", "tyt_a1"),
        ("recall", "tyt_a1"),
        ("request-unapproval", "tyt_a1"),
        ("approve", "ttyt_a"),
        ("return", "ttyt_a"),
        ("unapprove", "ttyt_a"),
    ],
)
def test_r_sec_02_token_cannot_act_on_the_report_workflow(forms, people, tree, action, unit_attr):
    """Reproduced: submitting or approving a report with an API token returned HTTP 500."""
    # The role is checked before the state: a token is refused whatever state the report is in.
    token = token_for(getattr(tree, unit_attr), ALL_REPORT_SCOPES)
    response = Client().post(
        f"/api/v1/reports/BCX3/{tree.tyt_a1.code}/{P}/{action}",
        {"reason": "máy gửi"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["code"] == "person_required" and "R-SEC-02" in body["message"]


def test_r_sec_02_token_cannot_enter_manual_values(forms, tree):
    token = token_for(tree.tyt_a1, ALL_REPORT_SCOPES)
    response = Client().put(
        f"/api/v1/reports/BCX3/{tree.tyt_a1.code}/{P}",
        {"values": {}},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403 and response.json()["code"] == "person_required"


def test_r_sec_02_token_may_read_reports(forms, tree):
    _, token = api_client_create(actor=None, name="his", unit=tree.ttyt_a, scopes=["report.view"])
    response = Client().get(
        f"/api/v1/reports/BCX3/{tree.tyt_a1.code}/{P}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200


def test_r_mch_05_wrong_role_is_refused_before_the_state(forms, people, tree):
    """A collector approving a draft report: 403 (role), not 409 (state)."""
    with pytest.raises(PermissionDeniedError, match="lãnh đạo"):
        s.report_approve(actor=people.ttyt_collector, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    with pytest.raises(PermissionDeniedError, match="Vai trò"):
        s.report_recall(actor=people.ttyt_collector, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    assert not ReportInstance.objects.filter(status=ReportStatus.SUBMITTED).exists()
