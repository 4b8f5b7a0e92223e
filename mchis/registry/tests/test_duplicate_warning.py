"""R-DQ-02 where the decision is made: the collector entering a child and the leader approving it see the likely
existing records (probability, differing fields) and go on only with "đây là trẻ khác" and a reason (stored on
the change request and in the audit log)."""

from __future__ import annotations

import pytest
from django.test import Client

from mchis.core.models import AuditEvent
from mchis.registry.models import ChangeRequest, RequestStatus
from mchis.registry.services import PossibleDuplicate, change_request_approve, child_propose_create
from mchis.registry.tests.conftest import VALID_DATA


@pytest.fixture(autouse=True)
def _no_login_2fa(settings):
    settings.ROLES_REQUIRING_2FA = []


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _copy(**overrides):
    """The same child as VALID_DATA typed again (no personal ID, mother's name slightly different)."""
    return {**VALID_DATA, "personal_id": "", **overrides}


def test_r_dq_02_collector_must_say_different_child_with_a_reason(collector, make_child, unit):
    # given an approved child
    existing = make_child()
    # when the collector enters the same child again without a reason
    with pytest.raises(PossibleDuplicate, match="đây là trẻ khác") as exc:
        child_propose_create(actor=collector, unit=unit, data=_copy(mother_name="Trần Thị Cúc Hoa"))
    # then the existing record is shown with its probability and the field that differs; nothing is stored
    (cand,) = exc.value.candidates
    assert cand["public_id"] == str(existing.public_id)
    assert cand["probability"] >= 0.9
    assert cand["differs"] == ["mother_name"]
    assert not ChangeRequest.objects.filter(status=RequestStatus.PENDING).exists()

    # when the collector confirms it is another child, with a reason
    req = child_propose_create(
        actor=collector, unit=unit, data=_copy(mother_name="Trần Thị Cúc Hoa"),
        not_duplicate_reason="Khác mẹ, đã hỏi gia đình",
    )  # fmt: skip
    # then the request carries the candidates and the reason, and the audit row records both
    assert req.not_duplicate_reason == "Khác mẹ, đã hỏi gia đình"
    assert [c["public_id"] for c in req.duplicate_candidates] == [str(existing.public_id)]
    event = AuditEvent.objects.filter(action="child.propose_create", object_id=str(req.public_id)).get()
    assert event.changes["not_duplicate_reason"] == [None, "Khác mẹ, đã hỏi gia đình"]
    assert str(existing.public_id) in event.changes["possible_duplicates"][1]


def test_r_dq_02_a_blank_reason_is_no_reason(collector, make_child, unit):
    make_child()
    with pytest.raises(PossibleDuplicate, match="ghi lý do"):
        child_propose_create(actor=collector, unit=unit, data=_copy(), not_duplicate_reason="   ")


def test_r_dq_02_a_different_child_is_not_flagged(collector, make_child, unit):
    make_child()
    req = child_propose_create(
        actor=collector, unit=unit,
        data=_copy(full_name="Lê Thị Hồng", sex="F", date_of_birth="01/09/2016", mother_name="Phạm Thị Lan",
                   father_name="Lê Văn Tùng"),
    )  # fmt: skip
    assert req.duplicate_candidates == [] and req.not_duplicate_reason == ""


def test_r_dq_02_leader_must_say_different_child_on_approval(collector, leader, make_child, unit):
    # given a create request that came from an import (the proposer was not asked), looking like a live child
    existing = make_child()
    req = child_propose_create(
        actor=collector, unit=unit, data=_copy(), source="survey", acknowledge_warnings=True
    )
    assert [c["public_id"] for c in req.duplicate_candidates] == [str(existing.public_id)]
    # when the leader approves without a reason: refused, nothing written
    with pytest.raises(PossibleDuplicate, match="đây là trẻ khác"):
        change_request_approve(actor=leader, request=req)
    req.refresh_from_db()
    assert req.status == RequestStatus.PENDING
    # when the leader gives one: approved, the reason stored and audited
    change_request_approve(actor=leader, request=req, not_duplicate_reason="Song sinh, đã xem giấy khai sinh")
    req.refresh_from_db()
    assert req.status == RequestStatus.APPROVED
    assert req.leader_not_duplicate_reason == "Song sinh, đã xem giấy khai sinh"
    event = AuditEvent.objects.get(action="child.request_approve", object_id=str(req.public_id))
    assert event.changes["not_duplicate_reason"] == [None, "Song sinh, đã xem giấy khai sinh"]


def test_r_dq_02_entry_form_shows_candidates_and_keeps_the_typed_data(collector, make_child):
    existing = make_child()
    client = _client(collector)
    # the live check (htmx) as the name, birth date and mother are typed
    html = client.get(
        "/quality/check-child/",
        {"full_name": "Nguyen Van An", "date_of_birth": "12/03/2018", "mother_name": "Trần Thị Cúc"},
    ).content.decode()
    assert f"/children/{existing.public_id}/" in html
    assert "12/03/2018" in html and "%" in html
    assert 'name="not_duplicate_reason"' in html

    # sending without the confirmation: the form comes back with the candidates, nothing is created
    body = {**_copy(), "client_key": "dup-1"}
    response = client.post("/children/new/", body)
    html = response.content.decode()
    assert response.status_code == 200 and "Trẻ này có thể đã có trong hệ thống" in html
    assert "đây là trẻ khác" in html
    assert not ChangeRequest.objects.filter(client_key="dup-1").exists()
    # the reason without the box ticked does not count
    client.post("/children/new/", {**body, "not_duplicate_reason": "Khác"})
    assert not ChangeRequest.objects.filter(client_key="dup-1").exists()
    # ticked, with a reason: sent
    response = client.post(
        "/children/new/", {**body, "not_duplicate": "on", "not_duplicate_reason": "Khác thôn"}
    )
    assert response.status_code == 302
    assert ChangeRequest.objects.get(client_key="dup-1").not_duplicate_reason == "Khác thôn"


def test_r_dq_02_approval_page_shows_candidates_and_asks_the_leader(collector, leader, make_child, unit):
    existing = make_child()
    req = child_propose_create(
        actor=collector, unit=unit, data=_copy(), source="survey", acknowledge_warnings=True
    )
    client = _client(leader)
    html = client.get(f"/children/requests/{req.public_id}/").content.decode()
    assert f"/children/{existing.public_id}/" in html and 'name="not_duplicate_reason"' in html
    response = client.post(f"/children/requests/{req.public_id}/", {"action": "approve"})
    assert response.status_code == 200 and "đây là trẻ khác" in response.content.decode()
    req.refresh_from_db()
    assert req.status == RequestStatus.PENDING
    client.post(
        f"/children/requests/{req.public_id}/",
        {"action": "approve", "not_duplicate": "on", "not_duplicate_reason": "Trẻ khác, khác cha"},
    )
    req.refresh_from_db()
    assert req.status == RequestStatus.APPROVED
