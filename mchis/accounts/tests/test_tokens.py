"""Machine clients (issue item 8, R-SEC-02): tokens hashed at rest, shown once, expiring, revocable,
scoped to a unit subtree and a set of actions; every call audited with the client's name."""

from __future__ import annotations

import hashlib
import html
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mchis.accounts.models import ApiClient
from mchis.accounts.services import api_client_create, api_client_revoke
from mchis.core.errors import DomainError
from mchis.core.models import AuditEvent


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_issue_token_command_prints_token_once_and_stores_only_hash(tree):
    out = StringIO()
    call_command(
        "issue_token", client="his-a", unit=tree.ttyt_a.code, scopes="child.view,account.manage", stdout=out
    )
    token = out.getvalue().strip()
    client = ApiClient.objects.get(name="his-a")
    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(ApiClient.objects.values_list()))  # never stored in clear
    assert token not in str(list(AuditEvent.objects.values_list()))
    assert client.scopes == ["account.manage", "child.view"]
    assert 364 <= (client.expires_at - timezone.now()).days <= 365


def test_create_account_command_prints_one_time_password(tree):
    out = StringIO()
    call_command(
        "create_account",
        username="ttyt.a",
        unit=tree.ttyt_a.code,
        role="leader",
        full_name="Trần Văn Bình",
        stdout=out,
    )
    from mchis.accounts.models import User

    user = User.objects.get(username="ttyt.a")
    assert user.check_password(out.getvalue().strip()) and user.must_change_password
    assert user.get_full_name() == "Bình Trần Văn" or user.last_name == "Trần Văn"


def test_valid_token_calls_are_audited_with_client_name(tree):
    _, token = api_client_create(actor=None, name="his-a", unit=tree.ttyt_a, scopes=["child.view"])
    response = Client().get("/api/v1/accounts/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.json() == {
        "kind": "client",
        "name": "his-a",
        "role": None,
        "unit_code": tree.ttyt_a.code,
        "scopes": ["child.view"],
    }
    call = AuditEvent.objects.get(action="client.call")
    assert call.client_name == "his-a" and call.actor_id is None
    assert call.changes["status"] == [None, 200] and call.changes["path"] == [None, "/api/v1/accounts/me"]
    assert call.actor_unit_code == tree.ttyt_a.code
    assert ApiClient.objects.get(name="his-a").last_used_at is not None


@pytest.mark.parametrize("state", ["expired", "revoked", "unknown"])
def test_bad_tokens_get_401_with_clear_message(state, tree):
    client, token = api_client_create(actor=None, name="his-a", unit=tree.ttyt_a, scopes=["child.view"])
    if state == "expired":
        ApiClient.objects.filter(pk=client.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif state == "revoked":
        api_client_revoke(actor=None, client=client)
    else:
        token = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    response = Client().get("/api/v1/accounts/me", headers=bearer(token))
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == f"token_{state}" and body["message"]
    rejected = AuditEvent.objects.get(action="client.rejected")
    assert rejected.changes["reason"] == [None, state]
    assert not AuditEvent.objects.filter(action="client.call").exists()


def test_scope_enforcement(tree, make_user):
    make_user("collector", tree.tyt_a1, username="in.scope")
    make_user("collector", tree.tyt_b1, username="out.of.scope")
    _, viewer = api_client_create(actor=None, name="viewer", unit=tree.ttyt_a, scopes=["child.view"])
    _, manager = api_client_create(actor=None, name="manager", unit=tree.ttyt_a, scopes=["account.manage"])
    refused = Client().get("/api/v1/accounts/users", headers=bearer(viewer))
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    listed = Client().get("/api/v1/accounts/users", headers=bearer(manager))
    names = {a["username"] for a in listed.json()}
    assert "in.scope" in names and "out.of.scope" not in names
    statuses = sorted(e.changes["status"][1] for e in AuditEvent.objects.filter(action="client.call"))
    assert statuses == [200, 403]


def test_token_client_cannot_pass_step_up(tree, make_user):
    target = make_user("collector", tree.tyt_a1)
    _, token = api_client_create(
        actor=None, name="m", unit=tree.ttyt_a, scopes=["account.manage", "account.change_role"]
    )
    response = Client().post(
        f"/api/v1/accounts/users/{target.pk}/role",
        {"role": "leader"},
        content_type="application/json",
        headers=bearer(token),
    )
    assert response.status_code == 403 and response.json()["code"] == "step_up_required"


def test_session_api_still_requires_csrf_but_bearer_does_not(tree, make_user):
    target = make_user("collector", tree.tyt_a1)
    admin = make_user("unit_admin", tree.ttyt_a)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin)
    response = browser.post(
        f"/api/v1/accounts/users/{target.pk}/role", {"role": "leader"}, content_type="application/json"
    )
    assert response.status_code == 403 and "CSRF" in response.content.decode()
    _, token = api_client_create(actor=None, name="m", unit=tree.ttyt_a, scopes=["account.manage"])
    machine = Client(enforce_csrf_checks=True)
    response = machine.post(
        f"/api/v1/accounts/users/{target.pk}/role",
        {"role": "leader"},
        content_type="application/json",
        headers=bearer(token),
    )
    assert response.status_code == 403 and response.json()["code"] == "forbidden"  # no change_role scope


def test_unknown_scope_refused(tree):
    with pytest.raises(DomainError, match=r"Quyền không hợp lệ: child\.fly\."):
        api_client_create(actor=None, name="x", unit=tree.ttyt_a, scopes=["child.fly"])


def test_token_ui_shows_once_lists_and_revokes(client, sysadmin, admin_a, tree):
    client.force_login(admin_a)
    assert client.get(reverse("accounts:token_list")).status_code == 403  # unit admins do not issue tokens
    client.force_login(sysadmin)
    response = client.post(
        reverse("accounts:token_create"),
        {"name": "dhis2-a", "unit": tree.cdc_a.pk, "scopes": ["report.view"], "days": 30},
    )
    token = html.unescape(response.content.decode().split('data-testid="api-token">')[1].split("<")[0])
    assert token.startswith("mchis_") and response["Cache-Control"].startswith("max-age=0")
    listing = client.get(reverse("accounts:token_list")).content.decode()
    assert "dhis2-a" in listing and token not in listing
    assert Client().get("/api/v1/accounts/me", headers=bearer(token)).status_code == 200
    api_client = ApiClient.objects.get(name="dhis2-a")
    client.post(reverse("accounts:token_revoke", args=[api_client.pk]))
    assert Client().get("/api/v1/accounts/me", headers=bearer(token)).status_code == 401
    assert AuditEvent.objects.filter(action="token.revoke", actor=sysadmin).exists()
