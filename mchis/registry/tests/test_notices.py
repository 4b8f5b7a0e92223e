"""Returned and waiting registry work cannot be missed: the proposer is notified (bell, list, home page with the
leader's reason on top) when a request is returned or approved; a correction request notifies the unit."""

from __future__ import annotations

import pytest
from django.test import Client

from mchis.notifications.models import Notification, NotificationKind
from mchis.registry.services import (
    change_request_approve,
    change_request_return_for_correction,
    child_propose_change,
    correction_request_file,
)


@pytest.fixture(autouse=True)
def _no_login_2fa(settings):
    settings.ROLES_REQUIRING_2FA = []
    settings.REGISTRY_STEP_UP_FOR_CHANGES = False


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_r_ch_05_returned_request_notifies_the_proposer_with_the_reason(collector, leader, make_child):
    # given a collector's proposal
    child = make_child()
    req = child_propose_change(
        actor=collector, child=child, changes={"mother_name": "Lê Thị Mai"}, reason="Sai"
    )
    # when the leader returns it with a reason
    change_request_return_for_correction(actor=leader, request=req, comment="Thiếu giấy khai sinh")
    # then the collector has one unread notification carrying the reason and a link to the request
    note = Notification.objects.get(recipient=collector, kind=NotificationKind.RETURNED)
    assert note.reason == "Thiếu giấy khai sinh" and str(req.public_id) in note.url
    client = _client(collector)
    home = client.get("/").content.decode()
    assert 'data-testid="bell-count">2<' in home, "the approval of make_child and this return"
    assert "Bị trả lại cho tôi" in home and "Thiếu giấy khai sinh" in home
    assert home.index("Thiếu giấy khai sinh") < home.index('class="cards"'), "the reason comes first"
    # when the collector marks it read, the bell counts one less
    client.post("/notifications/read/", {"id": note.pk})
    assert 'data-testid="bell-count">1<' in client.get("/").content.decode()


def test_r_ch_05_approval_notifies_the_proposer_and_not_the_leader(collector, leader, make_child):
    # make_child proposes and approves: one approval notice to the collector
    make_child()
    assert Notification.objects.filter(recipient=collector, kind=NotificationKind.APPROVED).count() == 1
    assert not Notification.objects.filter(recipient=leader).exists()


def test_r_ch_06_correction_request_notifies_the_unit(tree, make_user, collector, leader, make_child):
    child = make_child()
    upper = make_user("leader", tree.ttyt_a)
    correction_request_file(actor=upper, child=child, description="Sai ngày sinh", field="date_of_birth")
    notes = Notification.objects.filter(kind=NotificationKind.CORRECTION_DUE)
    assert {n.recipient_id for n in notes} == {collector.pk, leader.pk}
    assert all(n.reason == "Sai ngày sinh" and "hạn" in n.title for n in notes)


def test_approving_after_return_still_notifies(collector, leader, make_child):
    child = make_child()
    req = child_propose_change(
        actor=collector, child=child, changes={"mother_name": "Lê Thị Mai"}, reason="Sai"
    )
    change_request_approve(actor=leader, request=req)
    assert Notification.objects.filter(recipient=collector, object_id=str(req.public_id)).count() == 1
