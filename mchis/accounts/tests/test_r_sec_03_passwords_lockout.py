"""R-SEC-03: password complexity, no reuse of the last 5, forced change at first login, admin password
expiry, lockout per account and per IP with an admin unlock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from mchis.accounts.models import PasswordHistory, User
from mchis.accounts.services import account_change_password, account_create, account_unlock
from mchis.core.errors import ValidationFailed
from mchis.core.models import AuditEvent

LOGIN = "/accounts/login/"


@pytest.mark.parametrize(
    ("password", "missing"),
    [
        ("Ab1!xyz", "at least 8 characters"),
        ("abcdefg1!", "chữ hoa"),
        ("ABCDEFG1!", "chữ thường"),
        ("Abcdefgh!", "chữ số"),
        ("Abcdefgh1", "ký tự đặc biệt"),
        ("Passw0rd", "ký tự đặc biệt"),
    ],
)
def test_r_sec_03_weak_passwords_refused(password, missing, make_user, tree):
    user = make_user("collector", tree.tyt_a1)
    with pytest.raises(ValidationError, match=missing):
        validate_password(password, user)


def test_r_sec_03_strong_password_accepted_and_message_names_what_is_missing(make_user, tree):
    user = make_user("collector", tree.tyt_a1)
    validate_password("Hoa-Sen.2026", user)
    with pytest.raises(ValidationError, match=r"\['Mật khẩu phải có đủ: chữ hoa\.'\]") as excinfo:
        validate_password("hoa-sen.2026", user)
    assert "chữ hoa" in " ".join(excinfo.value.messages)


def test_r_sec_03_no_reuse_of_last_five(make_user, tree):
    user = make_user("collector", tree.tyt_a1, password="First-Pass1")
    for n in range(2, 6):
        user = account_change_password(user=user, new_password=f"Pass-{n}-Word")
    assert PasswordHistory.objects.filter(user=user).count() == 5
    with pytest.raises(
        ValidationFailed, match=r"Không được dùng lại 5 mật khẩu gần nhất\."
    ):  # the first of the last five
        account_change_password(user=user, new_password="First-Pass1")
    with pytest.raises(
        ValidationFailed, match=r"Không được dùng lại 5 mật khẩu gần nhất\."
    ):  # the current one
        account_change_password(user=user, new_password="Pass-5-Word")
    user = account_change_password(user=user, new_password="Pass-6-Word")
    # Six passwords ago: allowed again.
    account_change_password(user=user, new_password="First-Pass1")


def test_r_sec_03_forced_change_at_first_login(client, tree):
    user, initial = account_create(actor=None, username="moi.a1", unit=tree.tyt_a1, role="collector")
    response = client.post(LOGIN, {"username": "moi.a1", "password": initial})
    assert response.status_code == 302
    # Every page leads to the change form; the API refuses with a clear code.
    assert client.get("/").url == reverse("accounts:password_change")
    api = client.get("/api/v1/accounts/me")
    assert api.status_code == 403 and api.json()["code"] == "password_change_required"
    bad = client.post(
        reverse("accounts:password_change"),
        {"old_password": initial, "new_password1": "khongdu1", "new_password2": "khongdu1"},
    )
    assert bad.status_code == 200 and "chữ hoa" in bad.content.decode()
    reused = client.post(
        reverse("accounts:password_change"),
        {"old_password": initial, "new_password1": initial, "new_password2": initial},
    )
    assert "Không được dùng lại" in reused.content.decode()
    good = client.post(
        reverse("accounts:password_change"),
        {"old_password": initial, "new_password1": "Moi-Mat-Khau1", "new_password2": "Moi-Mat-Khau1"},
    )
    assert good.status_code == 302
    assert client.get("/").status_code == 200  # the session survived the change
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password("Moi-Mat-Khau1")
    assert AuditEvent.objects.filter(action="account.password_change", actor=user).exists()


def test_r_sec_03_admin_password_expires(client, make_user, tree, settings):
    settings.ADMIN_PASSWORD_MAX_AGE_DAYS = 182
    admin = make_user("unit_admin", tree.ttyt_a)
    collector = make_user("collector", tree.tyt_a1)
    old = timezone.now() - timedelta(days=183)
    User.objects.filter(pk__in=[admin.pk, collector.pk]).update(password_changed_at=old)
    client.force_login(admin)
    assert client.get("/").url == reverse("accounts:password_change")
    assert "quá hạn" in client.get(reverse("accounts:password_change")).content.decode()
    client.force_login(collector)
    assert client.get("/").status_code == 200  # non-admin passwords do not expire


def _fail(client, username, times):
    last = None
    for _ in range(times):
        last = client.post(LOGIN, {"username": username, "password": "Wrong-pass1"})
    return last


def test_r_sec_03_lockout_per_account_and_admin_unlock(client, admin_a, make_user, tree, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = make_user("collector", tree.tyt_a1, username="khoa.a1")
    assert _fail(client, "khoa.a1", 2).status_code == 200
    locked = _fail(client, "khoa.a1", 1)
    assert locked.status_code == 429 and "Tài khoản tạm khóa" in locked.content.decode()
    # The right password does not help while locked.
    assert client.post(LOGIN, {"username": "khoa.a1", "password": "Passw0rd!x"}).status_code == 429
    assert AuditEvent.objects.filter(action="auth.lockout", object_id=str(user.pk)).count() == 1
    # The admin sees the lock and unlocks (audited).
    admin_client = type(client)(REMOTE_ADDR="10.0.0.9")
    admin_client.force_login(admin_a)
    assert "Bị khóa" in admin_client.get(reverse("accounts:user_detail", args=[user.pk])).content.decode()
    assert admin_client.post(reverse("accounts:user_unlock", args=[user.pk])).status_code == 302
    assert AuditEvent.objects.filter(action="account.unlock", actor=admin_a, object_id=str(user.pk)).exists()
    assert client.post(LOGIN, {"username": "khoa.a1", "password": "Passw0rd!x"}).status_code == 302


def test_r_sec_03_lockout_per_ip(client, make_user, tree, settings):
    settings.AXES_FAILURE_LIMIT = 3
    make_user("collector", tree.tyt_a1, username="victim")
    for name in ("guess1", "guess2", "guess3"):
        _fail(client, name, 1)
    # Same IP, an account never tried before: refused too.
    assert client.post(LOGIN, {"username": "victim", "password": "Passw0rd!x"}).status_code == 429
    other_ip = type(client)(REMOTE_ADDR="10.1.2.3")
    assert other_ip.post(LOGIN, {"username": "victim", "password": "Passw0rd!x"}).status_code == 302


def test_r_sec_03_unlock_outside_scope_is_refused(admin_a, make_user, tree):
    outside = make_user("collector", tree.tyt_b1)
    with pytest.raises(Exception, match=r"Đơn vị nằm ngoài phạm vi quản lý của bạn\.") as excinfo:
        account_unlock(actor=admin_a, account=outside)
    assert getattr(excinfo.value, "status_code", None) == 403


def test_r_sec_03_system_admin_unlocks_an_ip(client, sysadmin, admin_a, make_user, tree, settings):
    settings.AXES_FAILURE_LIMIT = 2
    make_user("collector", tree.tyt_a1, username="office.user")
    office = type(client)(REMOTE_ADDR="10.7.7.7")
    _fail(office, "typo1", 1)
    _fail(office, "typo2", 1)
    assert office.post(LOGIN, {"username": "office.user", "password": "Passw0rd!x"}).status_code == 429
    client.force_login(admin_a)
    assert "10.7.7.7" not in client.get(reverse("accounts:user_list")).content.decode()
    assert client.post(reverse("accounts:ip_unlock"), {"ip_address": "10.7.7.7"}).status_code == 403
    client.force_login(sysadmin)
    assert "10.7.7.7" in client.get(reverse("accounts:user_list")).content.decode()
    client.post(reverse("accounts:ip_unlock"), {"ip_address": "10.7.7.7"})
    assert AuditEvent.objects.filter(action="auth.ip_unlock", object_id="10.7.7.7", actor=sysadmin).exists()
    assert office.post(LOGIN, {"username": "office.user", "password": "Passw0rd!x"}).status_code == 302


def test_r_sec_03_bearer_header_does_not_dodge_forced_change_on_pages(client, tree):
    account_create(actor=None, username="sly", unit=tree.tyt_a1, role="collector", password="Init-Pass1")
    client.post(LOGIN, {"username": "sly", "password": "Init-Pass1"})
    response = client.get("/", headers={"Authorization": "Bearer whatever"})
    assert response.status_code == 302 and response.url == reverse("accounts:password_change")
    htmx = client.get("/", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx["HX-Redirect"] == reverse("accounts:password_change")


def test_r_sec_03_admin_warned_before_password_expires(client, make_user, tree, settings):
    settings.ADMIN_PASSWORD_MAX_AGE_DAYS = 182
    admin = make_user("unit_admin", tree.ttyt_a, username="soon.expired")
    User.objects.filter(pk=admin.pk).update(password_changed_at=timezone.now() - timedelta(days=175))
    response = client.post(LOGIN, {"username": "soon.expired", "password": "Passw0rd!x"}, follow=True)
    assert "sẽ hết hạn sau 7 ngày" in response.content.decode()
