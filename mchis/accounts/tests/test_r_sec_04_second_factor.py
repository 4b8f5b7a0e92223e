"""R-SEC-04: TOTP enrolment with recovery codes, 2FA at login for configured roles, and step-up: critical
operations need a second-factor check within the last STEP_UP_WINDOW_SECONDS."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from mchis.accounts.middleware import STEP_UP_KEY
from mchis.accounts.models import User
from mchis.accounts.permissions import CRITICAL_ACTIONS
from mchis.accounts.services import (
    account_change_role,
    account_issue_enrolment_code,
    account_reset_otp,
    otp_check,
    otp_enrol_begin,
    otp_enrol_confirm,
)
from mchis.accounts.testing import step_up_session, stepped_up, totp_code
from mchis.core.errors import DomainError, PermissionDeniedError, StepUpRequired
from mchis.core.models import AuditEvent


def test_r_sec_04_role_change_is_a_critical_action():
    assert "account.change_role" in CRITICAL_ACTIONS


def test_r_sec_04_step_up_required_within_five_minutes(admin_a, make_user, tree, settings):
    settings.STEP_UP_WINDOW_SECONDS = 300
    target = make_user("collector", tree.tyt_a1)
    with pytest.raises(StepUpRequired, match=r"Thao tác quan trọng: vui lòng xác thực lại bằng mã hai lớp"):
        account_change_role(actor=admin_a, account=target, role="leader")
    with (
        stepped_up(timezone.now() - timedelta(minutes=6)),
        pytest.raises(StepUpRequired, match=r"Thao tác quan trọng: vui lòng xác thực lại bằng mã hai lớp"),
    ):
        account_change_role(actor=admin_a, account=target, role="leader")
    target.refresh_from_db()
    assert target.role == "collector"
    assert not AuditEvent.objects.filter(action="account.change_role").exists()
    with stepped_up(timezone.now() - timedelta(minutes=4)):
        account_change_role(actor=admin_a, account=target, role="leader", reason="Bổ nhiệm")
    target.refresh_from_db()
    assert target.role == "leader"
    event = AuditEvent.objects.get(action="account.change_role")
    assert event.changes == {"role": ["collector", "leader"]} and event.reason == "Bổ nhiệm"


def test_r_sec_04_enrolment_shows_qr_then_ten_recovery_codes(client, make_user, tree):
    user = make_user("collector", tree.tyt_a1)
    client.force_login(user)
    page = client.get(reverse("accounts:otp_setup")).content.decode()
    assert 'src="data:image/svg+xml;base64,' in page and "<script" not in page.split("<main")[1]
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    issued = account_issue_enrolment_code(actor=None, account=user)
    wrong = client.post(
        reverse("accounts:otp_setup"),
        {
            "code": "000000" if totp_code(device) != "000000" else "111111",
            "password": "Passw0rd!x",
            "enrolment_code": issued,
        },
    )
    assert "Mã xác thực không đúng" in wrong.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # the failure was kept: guessing is slowed down
    device.throttle_reset()
    enrolment_code = account_issue_enrolment_code(actor=None, account=user)
    done = client.post(
        reverse("accounts:otp_setup"),
        {"code": totp_code(device), "password": "Passw0rd!x", "enrolment_code": enrolment_code},
    )
    codes = done.content.decode().split('data-testid="recovery-codes">')[1].split("</ul>")[0].count("<code>")
    assert codes == 10
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(action="account.otp_enrol", actor=user).exists()


def test_r_sec_04_recovery_code_works_once(make_user, tree, enrol):
    user = make_user("collector", tree.tyt_a1)
    _, codes = enrol(user)
    assert otp_check(user=user, code=codes[0], purpose="login") is not None
    with pytest.raises(DomainError, match=r"Mã xác thực không đúng hoặc đã hết hạn\."):
        otp_check(user=user, code=codes[0], purpose="login")
    time.sleep(1.1)  # django-otp throttles the next try after a failure
    assert otp_check(user=user, code=codes[1], purpose="step_up") is not None
    assert AuditEvent.objects.filter(action="auth.otp_failed.login", actor=user).count() == 1


def test_r_sec_04_configured_roles_must_enrol_then_verify_at_every_login(
    client, make_user, tree, settings, enrol
):
    settings.ROLES_REQUIRING_2FA = ["leader"]
    leader = make_user("leader", tree.ttyt_a)
    collector = make_user("collector", tree.tyt_a1)
    client.force_login(collector)
    assert client.get("/").status_code == 200  # role not configured
    client.force_login(leader)
    assert client.get("/").url.startswith(reverse("accounts:otp_setup"))
    api = client.get("/api/v1/accounts/me")
    assert api.status_code == 403 and api.json()["code"] == "otp_required"
    device, codes = enrol(leader)
    fresh = type(client)()
    fresh.force_login(leader)
    assert fresh.get("/").url.startswith(reverse("accounts:otp_verify"))
    bad = fresh.post(reverse("accounts:otp_verify"), {"code": "abc"})
    assert "Mã xác thực không đúng" in bad.content.decode()
    time.sleep(1.1)  # django-otp throttles the next try after a failure
    ok = fresh.post(reverse("accounts:otp_verify"), {"code": codes[0], "next": "/"})
    assert ok.status_code == 302 and fresh.get("/").status_code == 200


def test_r_sec_04_view_redirects_to_step_up_and_back(client, admin_a, make_user, tree, enrol):
    target = make_user("collector", tree.tyt_a1)
    device, _ = enrol(admin_a)
    client.force_login(admin_a)
    url = reverse("accounts:user_change_role", args=[target.pk])
    response = client.post(url, {"role": "leader", "reason": "Bổ nhiệm"})
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:step_up"))
    prompt = client.get(response.url)
    assert 'data-testid="step-up"' in prompt.content.decode()
    back = client.post(response.url, {"code": totp_code(device, ahead=1), "next": url})
    # the interrupted form comes back as typed and is sent again (issue 13 item 6): nothing to retype
    page = back.content.decode()
    assert back.status_code == 200 and 'data-testid="step-up-continue"' in page
    assert f'action="{url}"' in page and "data-autosubmit-form" in page
    assert 'name="role" value="leader"' in page and 'name="reason" value="Bổ nhiệm"' in page
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', page))
    assert (
        client.post(url, {k: v for k, v in fields.items() if k != "csrfmiddlewaretoken"}).status_code == 302
    )
    target.refresh_from_db()
    assert target.role == "leader"


def test_r_sec_04_step_up_keeps_the_typed_form_only_for_its_own_page(client, admin_a, make_user, tree, enrol):
    # given a role change interrupted by the step-up prompt
    target = make_user("collector", tree.tyt_a1)
    device, _ = enrol(admin_a)
    client.force_login(admin_a)
    url = reverse("accounts:user_change_role", args=[target.pk])
    client.post(url, {"role": "leader", "reason": "Bổ nhiệm"})
    # when the check is passed for another page
    back = client.post(reverse("accounts:step_up"), {"code": totp_code(device, ahead=1), "next": "/"})
    # then nothing is replayed there, and the kept form is gone
    assert back.status_code == 302 and back.url == "/"
    target.refresh_from_db()
    assert target.role == "collector"
    assert "step_up_pending_post" not in client.session


def test_r_sec_04_step_up_page_refuses_open_redirect(client, admin_a, enrol):
    device, codes = enrol(admin_a)
    client.force_login(admin_a)
    response = client.post(reverse("accounts:step_up"), {"code": codes[0], "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == "/"


def test_r_sec_04_stale_step_up_session_is_refused(client, admin_a, make_user, tree, settings):
    settings.STEP_UP_WINDOW_SECONDS = 300
    target = make_user("collector", tree.tyt_a1)
    client.force_login(admin_a)
    step_up_session(client, seconds_ago=301)
    url = reverse("accounts:user_change_role", args=[target.pk])
    assert client.post(url, {"role": "leader", "reason": "x"}).url.startswith(reverse("accounts:step_up"))
    step_up_session(client, seconds_ago=10)
    assert client.post(url, {"role": "leader", "reason": "x"}).url == reverse(
        "accounts:user_detail", args=[target.pk]
    )


def test_r_sec_04_api_answers_step_up_required(client, admin_a, make_user, tree):
    target = make_user("collector", tree.tyt_a1)
    client.force_login(admin_a)
    url = f"/api/v1/accounts/users/{target.pk}/role"
    response = client.post(url, {"role": "leader"}, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "step_up_required"
    step_up_session(client)
    assert client.post(url, {"role": "leader"}, content_type="application/json").json()["role"] == "leader"


def test_r_sec_04_step_up_without_device_sends_to_enrolment(client, admin_a):
    client.force_login(admin_a)
    response = client.get(reverse("accounts:step_up") + "?next=/accounts/users/")
    assert response.url.startswith(reverse("accounts:otp_setup"))


def test_r_sec_04_reset_otp_needs_step_up_and_is_audited(client, admin_a, make_user, tree, enrol):
    target = make_user("leader", tree.tyt_a1)
    enrol(target)
    with pytest.raises(StepUpRequired, match=r"Thao tác quan trọng: vui lòng xác thực lại bằng mã hai lớp"):
        account_reset_otp(actor=admin_a, account=target, reason="Mất điện thoại")
    assert TOTPDevice.objects.filter(user=target).exists()
    client.force_login(admin_a)
    url = reverse("accounts:user_reset_otp", args=[target.pk])
    assert client.post(url, {"reason": "Mất điện thoại"}).url.startswith(reverse("accounts:step_up"))
    session = client.session
    session[STEP_UP_KEY] = time.time()
    session.save()
    assert client.post(url, {"reason": "Mất điện thoại"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=target).exists()
    event = AuditEvent.objects.get(action="account.otp_reset")
    assert event.actor_id == admin_a.pk and event.reason == "Mất điện thoại"
    assert User.objects.get(pk=target.pk).session_generation == target.session_generation + 1


# --- step-up proves the person, not the password (issue 10 item 3) --------------------------------------------


def _enrol_post(client, device, **fields):
    return client.post(reverse("accounts:otp_setup"), {"code": totp_code(device), **fields})


def test_r_sec_04_password_alone_cannot_enrol_an_authenticator(client, admin_a, make_user, tree):
    # given someone holding only a collector's password, sent from the step-up prompt to enrolment
    victim = make_user("collector", tree.tyt_a1)
    client.force_login(victim)
    assert client.get(reverse("accounts:step_up") + "?next=/").url.startswith(reverse("accounts:otp_setup"))
    client.get(reverse("accounts:otp_setup"))
    device = TOTPDevice.objects.get(user=victim, confirmed=False)
    # when it confirms its own authenticator with a valid TOTP code but without an admin-issued code
    page = _enrol_post(client, device, password="Passw0rd!x", enrolment_code="").content.decode()
    page2 = _enrol_post(
        client, device, password="Passw0rd!x", enrolment_code="abcdabcdabcdabcd"
    ).content.decode()
    # then nothing is enrolled
    assert "quản trị" in page2 and not TOTPDevice.objects.filter(user=victim, confirmed=True).exists()
    assert "enrolment_code" in page
    # the admin issues a one-time code; the wrong password is still refused
    code = account_issue_enrolment_code(actor=admin_a, account=victim)
    wrong = _enrol_post(client, device, password="Sai-mat-khau1!", enrolment_code=code).content.decode()
    assert "Mật khẩu không đúng" in wrong
    assert not TOTPDevice.objects.filter(user=victim, confirmed=True).exists()
    # with password and code it enrols; the code is spent
    done = _enrol_post(client, device, password="Passw0rd!x", enrolment_code=code)
    assert 'data-testid="recovery-codes"' in done.content.decode()
    assert not StaticDevice.objects.filter(user=victim, name="enrolment").exists()
    # and the recovery codes are shown once: the page does not show them again
    again = client.get(reverse("accounts:otp_setup"))
    assert again.status_code == 302 and 'data-testid="recovery-codes"' not in again.content.decode()


def test_r_sec_04_enrolment_notifies_the_holder_and_its_unit_admin(
    admin_a, make_user, tree, django_capture_on_commit_callbacks
):
    from django.core import mail

    victim = make_user("collector", tree.tyt_a1)
    User.objects.filter(pk=victim.pk).update(email="victim@example.vn")
    User.objects.filter(pk=admin_a.pk).update(email="admin@example.vn")
    victim.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        code = account_issue_enrolment_code(actor=admin_a, account=victim)
    with django_capture_on_commit_callbacks(execute=True):
        device = otp_enrol_begin(user=victim)
        otp_enrol_confirm(user=victim, code=totp_code(device), password="Passw0rd!x", enrolment_code=code)
    enrolled = [m for m in mail.outbox if "Đã đăng ký xác thực hai lớp" in m.subject]
    assert enrolled and set(enrolled[0].to) == {"victim@example.vn", "admin@example.vn"}
    assert AuditEvent.objects.filter(action="account.otp_enrol_code", actor=admin_a).exists()


def test_r_sec_04_enrolment_code_expires_and_is_replaced(admin_a, make_user, tree):
    victim = make_user("collector", tree.tyt_a1)
    first = account_issue_enrolment_code(actor=admin_a, account=victim)
    second = account_issue_enrolment_code(actor=admin_a, account=victim)
    device = otp_enrol_begin(user=victim)
    with pytest.raises(DomainError, match="Mã đăng ký"):
        otp_enrol_confirm(user=victim, code=totp_code(device), password="Passw0rd!x", enrolment_code=first)
    StaticDevice.objects.filter(user=victim, name="enrolment").update(
        created_at=timezone.now() - timedelta(hours=73)
    )
    with pytest.raises(DomainError, match="Mã đăng ký"):
        otp_enrol_confirm(user=victim, code=totp_code(device), password="Passw0rd!x", enrolment_code=second)
    with pytest.raises(PermissionDeniedError, match="không có quyền"):
        account_issue_enrolment_code(actor=make_user("collector", tree.tyt_a1), account=victim)
