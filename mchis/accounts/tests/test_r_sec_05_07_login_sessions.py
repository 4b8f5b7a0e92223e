"""R-SEC-05: login, logout and failed logins are audited. R-SEC-07: sessions end on logout, on
"log out everywhere" and after inactivity (server-side idle timeout, warned in the page)."""

from __future__ import annotations

import time

from django.urls import reverse

from mchis.accounts.middleware import LAST_ACTIVITY_KEY
from mchis.core.audit import verify_chain
from mchis.core.models import AuditEvent

LOGIN = "/accounts/login/"


def test_r_sec_05_login_logout_and_failure_audited(client, make_user, tree):
    user = make_user("collector", tree.tyt_a1, username="audit.me")
    client.post(LOGIN, {"username": "audit.me", "password": "not-it"}, REMOTE_ADDR="10.9.8.7")
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.actor_id is None and failed.actor_username == ""
    assert failed.changes["username"] == [None, "audit.me"] and failed.ip == "10.9.8.7"
    client.post(LOGIN, {"username": "nobody.here", "password": "x"})
    assert AuditEvent.objects.filter(action="auth.login_failed", object_id="").count() == 1
    assert client.post(LOGIN, {"username": "audit.me", "password": "Passw0rd!x"}).status_code == 302
    login = AuditEvent.objects.get(action="auth.login")
    assert login.actor_id == user.pk and login.actor_unit_code == tree.tyt_a1.code
    assert client.post(reverse("accounts:logout")).url == "/accounts/login/"
    assert AuditEvent.objects.filter(action="auth.logout", actor=user).count() == 1
    assert client.get("/").status_code == 302
    assert verify_chain().broken_id is None


def test_r_sec_07_logout_requires_post(client, make_user, tree):
    client.force_login(make_user("collector", tree.tyt_a1))
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.get("/").status_code == 200


def test_r_sec_07_idle_timeout_logs_out(client, make_user, tree, settings):
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 60
    user = make_user("collector", tree.tyt_a1)
    client.force_login(user)
    page = client.get("/").content.decode()
    assert 'data-idle-timeout="60"' in page and "accounts/idle.js" in page
    session = client.session
    session[LAST_ACTIVITY_KEY] = time.time() - 61
    session.save()
    response = client.get("/accounts/security/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert AuditEvent.objects.filter(action="auth.logout_idle", actor=user).exists()
    assert client.get("/").url.startswith("/accounts/login/")


def test_r_sec_07_activity_keeps_session_alive(client, make_user, tree, settings):
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 60
    client.force_login(make_user("collector", tree.tyt_a1))
    session = client.session
    session[LAST_ACTIVITY_KEY] = time.time() - 50
    session.save()
    assert client.post(reverse("accounts:keepalive")).json()["ok"] is True
    assert time.time() - client.session[LAST_ACTIVITY_KEY] < 5
    assert client.get("/").status_code == 200


def test_r_sec_07_idle_api_session_answers_401(client, make_user, tree, settings):
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 60
    client.force_login(make_user("collector", tree.tyt_a1))
    session = client.session
    session[LAST_ACTIVITY_KEY] = time.time() - 120
    session.save()
    response = client.get("/api/v1/accounts/me")
    assert response.status_code == 401 and response.json()["code"] == "session_expired"


def test_r_sec_07_logout_everywhere_kills_other_sessions(client, make_user, tree):
    user = make_user("collector", tree.tyt_a1)
    phone, laptop = type(client)(), type(client)()
    for c in (client, phone, laptop):
        assert c.post(LOGIN, {"username": user.username, "password": "Passw0rd!x"}).status_code == 302
        assert c.get("/").status_code == 200
    assert client.post(reverse("accounts:logout_everywhere")).status_code == 302
    for c in (client, phone, laptop):
        assert c.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="auth.logout_everywhere", actor=user).exists()
    # Logging in again works and is a fresh, valid session.
    assert phone.post(LOGIN, {"username": user.username, "password": "Passw0rd!x"}).status_code == 302
    assert phone.get("/").status_code == 200


def test_r_sec_07_deactivated_account_loses_its_sessions(client, admin_a, make_user, tree):
    user = make_user("collector", tree.tyt_a1)
    victim = type(client)()
    victim.force_login(user)
    client.force_login(admin_a)
    client.post(reverse("accounts:user_deactivate", args=[user.pk]), {"reason": "Nghỉ việc"})
    assert victim.get("/").status_code == 302
    event = AuditEvent.objects.get(action="account.deactivate")
    assert event.reason == "Nghỉ việc" and event.changes == {"is_active": [True, False]}
    user.refresh_from_db()
    assert not user.is_active  # deactivated, never deleted


def test_r_sec_07_session_cookie_is_httponly_and_samesite(client, make_user, tree):
    make_user("collector", tree.tyt_a1, username="cookie.me")
    response = client.post(LOGIN, {"username": "cookie.me", "password": "Passw0rd!x"})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_admin_home_cards_count_accounts_and_locks(client, admin_a, make_user, tree, settings):
    settings.AXES_FAILURE_LIMIT = 2
    make_user("collector", tree.tyt_a1, username="locked.one")
    make_user("collector", tree.tyt_b1, username="far.away")
    for _ in range(2):
        type(client)(REMOTE_ADDR="10.3.3.3").post(LOGIN, {"username": "locked.one", "password": "bad"})
    client.force_login(admin_a)
    page = client.get("/").content.decode()
    assert "Tài khoản bị khóa" in page and "Tài khoản đang hoạt động trong phạm vi" in page
    assert "?status=locked" in page
    locked_list = client.get(reverse("accounts:user_list") + "?status=locked").content.decode()
    assert "locked.one" in locked_list and "far.away" not in locked_list


def test_r_sec_07_forged_csrf_refused_with_vietnamese_page_and_logged(make_user, tree):
    from django.test import Client

    user = make_user("collector", tree.tyt_a1)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    response = browser.post(reverse("accounts:logout_everywhere"))
    assert response.status_code == 403 and "Yêu cầu bị từ chối" in response.content.decode()
    event = AuditEvent.objects.get(action="security.csrf_rejected")
    assert event.actor_id == user.pk and event.changes["path"] == [None, "/accounts/logout-everywhere/"]
    assert browser.get("/").status_code == 200  # nothing happened: still signed in
    api = browser.post("/api/v1/accounts/users/1/role", {"role": "leader"}, content_type="application/json")
    assert api.status_code == 403
    assert AuditEvent.objects.filter(action="security.csrf_rejected").count() == 2
