"""R-SEC-02: a machine client (API token) is its own principal, never a person. Token N is not user N; every
write in the child registry carries one real person, so tokens are refused with 403 `person_required`;
permission and scope come before any idempotency-key lookup, and keys belong to their proposer."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from mchis.accounts.models import ApiClient
from mchis.accounts.services import api_client_create
from mchis.core.errors import PermissionDeniedError
from mchis.core.principal import PrincipalRef, principal_ref, same_principal
from mchis.registry.models import ChangeRequest, RequestStatus
from mchis.registry.services import (
    change_request_resubmit,
    change_request_return_for_correction,
    child_propose_change,
    child_propose_create,
)

from .conftest import VALID_DATA


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_numbered_like(user: Any, unit: Any, scopes: list[str]) -> str:
    """A token whose ApiClient id equals `user.pk` and whose stored scopes are `scopes` (as a token issued
    before machine clients were restricted could hold)."""
    client, token = api_client_create(actor=None, name=f"his-{user.pk}", unit=unit, scopes=["child.view"])
    ApiClient.objects.filter(pk=client.pk).update(id=user.pk, scopes=scopes)
    return token


def returned_request(collector: Any, leader: Any, make_child: Any) -> ChangeRequest:
    child = make_child()
    req = child_propose_change(
        actor=collector, child=child, changes={"mother_name": "Trần Thị Dung"}, reason="Sai tên mẹ"
    )
    return change_request_return_for_correction(actor=leader, request=req, comment="Thiếu giấy tờ")


def test_r_sec_02_principal_refs_compare_kind_and_id(collector, unit):
    from mchis.accounts.auth import principal_for

    client, _ = api_client_create(actor=None, name="his", unit=unit, scopes=["child.view"])
    ApiClient.objects.filter(pk=client.pk).update(id=collector.pk)
    machine = principal_for(ApiClient.objects.get(pk=collector.pk))
    assert principal_ref(collector) == PrincipalRef("user", collector.pk)
    assert principal_ref(machine) == PrincipalRef("token", collector.pk)
    assert principal_ref(machine) != principal_ref(collector)
    assert not same_principal(machine, principal_ref(collector))


def test_r_sec_02_token_with_the_proposers_number_cannot_resubmit(collector, leader, make_child, unit):
    """Reproduced: a view-only token N resubmitted user N's returned request with a new mother's name."""
    req = returned_request(collector, leader, make_child)
    for scopes in (["child.view"], ["child.view", "child.propose"]):
        token = token_numbered_like(collector, unit, scopes)
        response = Client().post(
            f"/api/v1/change-requests/{req.public_id}/resubmit",
            {"data": {"mother_name": "Kẻ Mạo Danh"}},
            content_type="application/json",
            headers=bearer(token),
        )
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "person_required"
        ApiClient.objects.all().delete()
    req.refresh_from_db()
    assert req.status == RequestStatus.RETURNED and req.data["mother_name"] != "Kẻ Mạo Danh"


def test_r_sec_02_resubmit_checks_the_role(collector, leader, make_child):
    """The resubmit route checked no permission: a proposer whose role is now viewer may not resubmit."""
    req = returned_request(collector, leader, make_child)
    type(collector).objects.filter(pk=collector.pk).update(role="viewer")  # moved to another job since
    collector.refresh_from_db()
    with pytest.raises(PermissionDeniedError, match="không có quyền"):
        change_request_resubmit(actor=collector, request=req, data={"mother_name": "Trần Thị Em"})


def test_r_sec_02_resubmit_by_another_person_is_refused(collector, leader, make_child, make_user, unit):
    req = returned_request(collector, leader, make_child)
    other = make_user("collector", unit)
    with pytest.raises(PermissionDeniedError, match="Chỉ người đề xuất"):
        change_request_resubmit(actor=other, request=req, data={"mother_name": "Trần Thị Em"})


def test_r_sec_02_idempotency_key_of_another_province_reveals_nothing(tree, make_user):
    """Reproduced: a token replaying another province's Idempotency-Key received that province's request."""
    collector_b = make_user("collector", tree.tyt_b1)
    theirs = child_propose_create(
        actor=collector_b, unit=tree.tyt_b1, data=VALID_DATA, client_key="k-123", acknowledge_warnings=True
    )
    token = token_numbered_like(collector_b, tree.tyt_a1, ["child.view", "child.propose"])
    response = Client().post(
        "/api/v1/children",
        {**VALID_DATA, "acknowledge_warnings": True},
        content_type="application/json",
        headers={**bearer(token), "Idempotency-Key": "k-123"},
    )
    assert response.status_code == 403 and response.json()["code"] == "person_required"
    assert str(theirs.public_id) not in response.content.decode()


def test_r_sec_02_idempotency_keys_belong_to_their_proposer(tree, make_user):
    collector_a = make_user("collector", tree.tyt_a1)
    collector_b = make_user("collector", tree.tyt_b1)
    theirs = child_propose_create(
        actor=collector_b, unit=tree.tyt_b1, data=VALID_DATA, client_key="k-1", acknowledge_warnings=True
    )
    browser = Client()
    browser.force_login(collector_a)
    payload: dict[str, Any] = {**VALID_DATA, "acknowledge_warnings": True}
    first = browser.post(
        "/api/v1/children", payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == 201 and first.json()["id"] != str(theirs.public_id)
    again = browser.post(
        "/api/v1/children", payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert ChangeRequest.objects.filter(client_key="k-1").count() == 2


def test_r_sec_02_token_cannot_propose_or_decide(tree, make_user, collector, leader, make_child, unit):
    """Every token write crashed with 500; now each child-registry write refuses a token with 403."""
    child = make_child()
    pending = child_propose_change(
        actor=collector, child=child, changes={"mother_name": "Trần Thị Dung"}, reason="Sai tên mẹ"
    )
    scopes = ["child.view", "child.propose", "child.approve", "quality.review", "child.verify"]
    token = token_numbered_like(leader, unit, scopes)
    calls = [
        ("/api/v1/children", {**VALID_DATA, "acknowledge_warnings": True}),
        (f"/api/v1/children/{child.public_id}/change-requests", {"changes": {"sex": "F"}, "reason": "x"}),
        (f"/api/v1/children/{child.public_id}/delete-requests", {"reason": "trùng"}),
        ("/api/v1/merge-requests", {"survivor": str(child.public_id), "retired": str(child.public_id), "reason": "x"}),
        (f"/api/v1/change-requests/{pending.public_id}/approve", {}),
        (f"/api/v1/change-requests/{pending.public_id}/reject", {"comment": "x"}),
        (f"/api/v1/change-requests/{pending.public_id}/return", {"comment": "x"}),
    ]  # fmt: skip
    for url, body in calls:
        response = Client().post(url, body, content_type="application/json", headers=bearer(token))
        assert response.status_code == 403, (url, response.status_code, response.content[:300])
        assert response.json()["code"] == "person_required", url
    pending.refresh_from_db()
    assert pending.status == RequestStatus.PENDING
    listed = Client().get("/api/v1/change-requests?mine=true", headers=bearer(token))
    assert listed.status_code == 200 and listed.json()["items"] == []
