"""Account administration (R-SEC-01): deactivate never deletes, reset password issues a new one-time
password, admins cannot act on themselves or above their rank; the API is scoped the same way."""

from __future__ import annotations

import html
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from mchis.accounts.models import User
from mchis.accounts.services import account_change_role, account_set_active
from mchis.accounts.testing import stepped_up
from mchis.core.errors import PermissionDeniedError
from mchis.core.models import AuditEvent


def test_r_sec_01_admin_cannot_deactivate_or_promote_self(admin_a):
    with pytest.raises(PermissionDeniedError, match=r"Không thể tự vô hiệu hóa tài khoản của chính mình\."):
        account_set_active(actor=admin_a, account=admin_a, active=False)
    with (
        stepped_up(),
        pytest.raises(PermissionDeniedError, match=r"Không thể tự đổi vai trò tài khoản của chính mình\."),
    ):
        account_change_role(actor=admin_a, account=admin_a, role="system_admin")


def test_r_sec_01_unit_admin_cannot_touch_a_system_admin_in_its_subtree(admin_a, make_user, tree):
    high = make_user("system_admin", tree.tyt_a1)
    with pytest.raises(
        PermissionDeniedError, match=r"Chỉ quản trị hệ thống mới quản lý được tài khoản quản trị hệ thống\."
    ):
        account_set_active(actor=admin_a, account=high, active=False)
    target = make_user("collector", tree.tyt_a1)
    with stepped_up(), pytest.raises(PermissionDeniedError, match=r"Bạn không được cấp vai trò này\."):
        account_change_role(actor=admin_a, account=target, role="system_admin")


def test_r_sec_01_deactivate_then_reactivate_keeps_the_account(client, admin_a, make_user, tree):
    user = make_user("collector", tree.tyt_a1)
    client.force_login(admin_a)
    client.post(reverse("accounts:user_deactivate", args=[user.pk]), {"reason": "Chuyển công tác"})
    assert User.objects.filter(pk=user.pk, is_active=False).exists()
    assert (
        type(client)()
        .post("/accounts/login/", {"username": user.username, "password": "Passw0rd!x"})
        .status_code
        == 200
    )
    client.post(reverse("accounts:user_reactivate", args=[user.pk]), {"reason": "Quay lại"})
    assert User.objects.filter(pk=user.pk, is_active=True).exists()
    actions = list(
        AuditEvent.objects.filter(object_id=str(user.pk), action__startswith="account.").values_list(
            "action", flat=True
        )
    )
    assert AuditEvent.objects.filter(action="auth.login_failed", object_id=str(user.pk)).exists()
    assert actions[-2:] == ["account.deactivate", "account.reactivate"]


def test_r_sec_03_reset_password_issues_new_one_time_password(client, admin_a, make_user, tree):
    user = make_user("collector", tree.tyt_a1)
    client.force_login(admin_a)
    response = client.post(reverse("accounts:user_reset_password", args=[user.pk]))
    new = html.unescape(response.content.decode().split('data-testid="initial-password">')[1].split("<")[0])
    user.refresh_from_db()
    assert user.check_password(new) and user.must_change_password
    assert AuditEvent.objects.filter(action="account.password_reset", actor=admin_a).exists()
    assert new not in str(list(AuditEvent.objects.values_list()))


def test_api_account_list_is_scoped_for_people(client, admin_a, make_user, tree):
    inside = make_user("collector", tree.tyt_a2, username="api.inside")
    outside = make_user("collector", tree.tyt_b1, username="api.outside")
    client.force_login(admin_a)
    names = {a["username"] for a in client.get("/api/v1/accounts/users").json()}
    assert "api.inside" in names and "api.outside" not in names
    assert client.get(f"/api/v1/accounts/users/{inside.pk}").status_code == 200
    missing = client.get(f"/api/v1/accounts/users/{outside.pk}")
    assert missing.status_code == 404 and missing.json() == client.get("/api/v1/accounts/users/999999").json()


def test_create_account_command_rejects_unknown_unit_and_duplicates(tree):
    with pytest.raises(CommandError, match="Không có đơn vị"):
        call_command("create_account", username="x", unit="NOPE", role="collector", stdout=StringIO())
    call_command("create_account", username="dup", unit=tree.tyt_a1.code, role="collector", stdout=StringIO())
    with pytest.raises(CommandError, match="đã tồn tại"):
        call_command(
            "create_account", username="DUP", unit=tree.tyt_a1.code, role="collector", stdout=StringIO()
        )
