"""R-SEC-01 (accounts issued top-down, inside the admin's subtree) and R-SEC-02 (the role × action matrix)."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from mchis.accounts.models import User
from mchis.accounts.permissions import MATRIX, can
from mchis.accounts.roles import ADMIN_ROLES, Role
from mchis.accounts.services import account_create
from mchis.accounts.testing import step_up_session, stepped_up
from mchis.core.audit import verify_chain
from mchis.core.errors import PermissionDeniedError
from mchis.core.models import AuditEvent

# Business data (R-SEC-02): admins configure the system and catalogs, they never write these.
BUSINESS_DOMAINS = {"child", "quality", "audit_campaign", "register", "report"}


def test_r_sec_01_admin_cannot_create_account_outside_subtree(admin_a, tree):
    with pytest.raises(PermissionDeniedError, match=r"Đơn vị nằm ngoài phạm vi quản lý của bạn\."):
        account_create(actor=admin_a, username="intruder", unit=tree.tyt_b1, role="collector")
    with pytest.raises(
        PermissionDeniedError, match=r"Đơn vị nằm ngoài phạm vi quản lý của bạn\."
    ):  # the parent of the admin's unit is outside too
        account_create(actor=admin_a, username="upward", unit=tree.cdc_a, role="collector")
    assert not User.objects.filter(username__in=["intruder", "upward"]).exists()


def test_r_sec_01_admin_creates_inside_subtree_with_one_time_password(admin_a, tree):
    with stepped_up():  # creating an account is critical (R-SEC-04, docs/permissions.md)
        user, initial = account_create(actor=admin_a, username="thu.a1", unit=tree.tyt_a1, role="collector")
    assert user.must_change_password and user.check_password(initial)
    event = AuditEvent.objects.get(action="account.create", object_id=str(user.pk))
    assert event.actor_id == admin_a.pk and event.scope_path == tree.tyt_a1.path
    assert verify_chain().broken_id is None


def test_r_sec_01_unit_admin_cannot_create_system_admin(admin_a, tree):
    with pytest.raises(PermissionDeniedError, match=r"Bạn không được cấp vai trò này\."):
        account_create(actor=admin_a, username="boss", unit=tree.tyt_a1, role="system_admin")


def test_r_sec_01_non_admin_cannot_create_accounts(make_user, tree):
    leader = make_user("leader", tree.ttyt_a)
    with pytest.raises(PermissionDeniedError, match=r"Bạn không có quyền thực hiện thao tác này\."):
        account_create(actor=leader, username="x", unit=tree.tyt_a1, role="collector")


def test_r_sec_01_create_form_offers_only_subtree_units_and_rejects_others(client, admin_a, tree):
    client.force_login(admin_a)
    page = client.get(reverse("accounts:user_create")).content.decode()
    assert tree.tyt_a1.name in page and tree.tyt_b1.name not in page and tree.cdc_a.name not in page
    response = client.post(
        reverse("accounts:user_create"),
        {"username": "x.b1", "unit": tree.tyt_b1.pk, "role": "collector"},
    )
    assert response.status_code == 200 and not User.objects.filter(username="x.b1").exists()
    step_up_session(client)  # creating an account is critical (R-SEC-04)
    response = client.post(
        reverse("accounts:user_create"),
        {"username": "x.a2", "full_name": "Nguyễn Thị Hoa", "unit": tree.tyt_a2.pk, "role": "collector"},
    )
    created = User.objects.get(username="x.a2")
    assert response.status_code == 200 and response["Cache-Control"].startswith("max-age=0")
    shown = response.content.decode()
    initial = html.unescape(shown.split('data-testid="initial-password">')[1].split("<")[0])
    assert created.check_password(initial)
    assert created.first_name == "Hoa" and created.last_name == "Nguyễn Thị"


def test_r_sec_01_account_list_and_detail_are_scoped(client, admin_a, make_user, tree):
    inside = make_user("collector", tree.tyt_a1, username="inside_a1")
    outside = make_user("collector", tree.tyt_b1, username="outside_b1")
    client.force_login(admin_a)
    listing = client.get(reverse("accounts:user_list")).content.decode()
    assert "inside_a1" in listing and "outside_b1" not in listing
    assert client.get(reverse("accounts:user_detail", args=[inside.pk])).status_code == 200
    # Missing and forbidden look the same.
    assert client.get(reverse("accounts:user_detail", args=[outside.pk])).status_code == 404
    assert client.get(reverse("accounts:user_detail", args=[999999])).status_code == 404
    response = client.post(reverse("accounts:user_deactivate", args=[outside.pk]))
    assert response.status_code == 404
    outside.refresh_from_db()
    assert outside.is_active


def test_r_sec_01_collector_cannot_open_account_admin(client, make_user, tree):
    client.force_login(make_user("collector", tree.tyt_a1))
    assert client.get(reverse("accounts:user_list")).status_code == 403


def test_r_sec_02_admins_hold_no_business_write_action():
    for action, roles in MATRIX.items():
        domain = action.split(".", 1)[0]
        if domain in BUSINESS_DOMAINS and not action.endswith(".view"):
            assert not (roles & ADMIN_ROLES), f"{action} must not be granted to an admin role"


@pytest.mark.parametrize("role", sorted(ADMIN_ROLES))
def test_r_sec_02_admin_roles_cannot_write_children_or_reports(role, make_user, tree):
    admin = make_user(role, tree.ttyt_a)
    for action in ("child.propose", "child.approve", "register.write", "report.edit", "report.approve"):
        assert not can(admin, action), action


def test_r_sec_02_collector_cannot_approve(make_user, tree):
    collector = make_user("collector", tree.tyt_a1)
    approvals = [a for a in MATRIX if "approve" in a.split(".", 1)[1]]
    assert approvals, "the matrix names approval actions"
    for action in approvals:
        assert not can(collector, action), action
    assert can(collector, "child.propose")


def test_r_sec_02_matrix_enumerated_every_action_names_known_roles():
    assert MATRIX, "matrix is not empty"
    for action, roles in MATRIX.items():
        assert "." in action, action
        assert roles <= set(Role), action
    with pytest.raises(KeyError, match=r"unknown action 'no\.such_action'"):
        can(None, "no.such_action")


def test_r_sec_02_inactive_account_can_do_nothing(make_user, tree):
    leader = make_user("leader", tree.ttyt_a)
    leader.is_active = False
    assert not any(can(leader, action) for action in MATRIX)
