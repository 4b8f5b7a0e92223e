"""Issue 21: security keys and passkeys (WebAuthn / FIDO2) beside TOTP - enrolment, login, step-up, several keys,
revocation by the person and by the unit admin, the attestation policy, roles that cannot fall back to TOTP
for critical actions; bad ceremonies (other site, replay, revoked key) refused with a reason and logged."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mchis.accounts.testing import enrol_totp, step_up_session, totp_code
from mchis.core.context import current_meta, reset_meta, set_meta
from mchis.core.models import AuditEvent
from mchis.core.stepup import SECURITY_KEY, has_recent_step_up

from .softkey import SoftKey

PASSWORD = "Passw0rd!x"


def post_json(client: Client, name: str, payload: dict | None = None) -> Any:
    return client.post(
        reverse(f"accounts:{name}"), data=json.dumps(payload or {}), content_type="application/json"
    )


def enrol_key(client: Client, key: SoftKey) -> Any:
    options = post_json(client, "webauthn_register_begin").json()
    return post_json(client, "webauthn_register_complete", key.register(options))


def use_key(client: Client, key: SoftKey, **kw: Any) -> Any:
    options = post_json(client, "webauthn_auth_begin").json()
    return post_json(client, "webauthn_auth_complete", key.assertion(options, **kw))


@pytest.fixture
def leader(tree, make_user) -> Any:
    user = make_user("leader", tree.tyt_a1)
    user.totp, _ = enrol_totp(user)
    return user


def signed_in(user: Any, *, stepped_up: bool = True) -> Client:
    client = Client()
    client.force_login(user)
    if stepped_up:
        step_up_session(client)
    return client


@pytest.mark.django_db
def test_adding_a_key_needs_a_fresh_second_factor_check(leader):
    client = signed_in(leader, stepped_up=False)
    response = post_json(client, "webauthn_register_begin")
    assert response.status_code == 403 and response.json()["code"] == "step_up_required"
    assert "xác thực lại" in response.json()["detail"]
    assert AuditEvent.objects.filter(action="auth.security_key_failed.register", actor=leader).exists()


@pytest.mark.django_db
def test_enrol_two_keys_then_log_in_and_step_up_with_one(settings, leader):
    client = signed_in(leader)
    first, second = SoftKey(), SoftKey()
    # enrolment: several keys per account, each audited
    assert enrol_key(client, first).status_code == 200
    assert enrol_key(client, second).status_code == 200
    assert AuditEvent.objects.filter(action="account.security_key_add", actor=leader).count() == 2
    page = client.get(reverse("accounts:security")).content.decode()
    assert page.count('data-testid="revoke-key"') == 2
    # login: password first, then the second factor page offers the key
    settings.ROLES_REQUIRING_2FA = ["leader"]
    fresh = Client()
    fresh.force_login(leader)
    assert fresh.get("/").status_code == 302
    verify_page = fresh.get(reverse("accounts:otp_verify")).content.decode()
    assert 'id="passkey-verification-placeholder"' in verify_page and "Dùng khóa bảo mật" in verify_page
    # the key button's scripts and their Vietnamese messages load before the second factor is verified
    catalog = fresh.get(reverse("accounts:webauthn_i18n"))
    assert (
        catalog.status_code == 200 and "D\\u00f9ng kh\\u00f3a b\\u1ea3o m\\u1eadt" in catalog.content.decode()
    )
    done = use_key(fresh, second)
    assert done.status_code == 200, done.content
    assert fresh.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.security_key_login", actor=leader).exists()
    # using the key again while signed in is a step-up made with a security key
    assert use_key(fresh, first).status_code == 200
    assert fresh.session["mchis_step_up_method"] == SECURITY_KEY
    assert AuditEvent.objects.filter(action="auth.security_key_step_up", actor=leader).exists()


@pytest.mark.django_db
def test_step_up_page_with_a_key_finishes_the_interrupted_action(leader):
    client = signed_in(leader)
    key = SoftKey()
    enrol_key(client, key)
    fresh = signed_in(leader, stepped_up=False)
    page = fresh.get(reverse("accounts:step_up") + "?next=/reports/").content.decode()
    assert "Dùng khóa bảo mật" in page and "key=1" in page
    assert use_key(fresh, key).status_code == 200
    back = fresh.get(reverse("accounts:step_up") + "?next=/reports/&key=1")
    assert back.status_code == 302 and back["Location"] == "/reports/"


def test_r_sec_04_a_role_that_requires_a_key_does_not_count_a_totp_step_up():
    now = timezone.now()
    for method, expected in (("totp", False), ("recovery", False), (SECURITY_KEY, True)):
        token = set_meta(
            replace(current_meta(), step_up_at=now, step_up_method=method, security_key_required=True)
        )
        try:
            assert has_recent_step_up() is expected
            assert has_recent_step_up(any_method=True)  # e.g. to enrol the first key
        finally:
            reset_meta(token)


@pytest.mark.django_db
def test_a_role_that_requires_a_key_cannot_step_up_with_totp_once_it_has_one(settings, leader):
    settings.SECURITY_KEY_ROLES = ["leader"]
    client = signed_in(leader)
    key = SoftKey(attestation="maker")
    assert enrol_key(client, key).status_code == 200
    fresh = signed_in(leader, stepped_up=False)
    response = fresh.post(
        reverse("accounts:step_up") + "?next=/reports/", {"code": totp_code(leader.totp), "next": "/reports/"}
    )
    assert response.status_code == 200
    assert "phải xác thực lại bằng khóa bảo mật" in response.content.decode()
    assert "mchis_step_up_at" not in fresh.session
    # with the key it works
    assert use_key(fresh, key).status_code == 200 and fresh.session["mchis_step_up_method"] == SECURITY_KEY


@pytest.mark.django_db
@pytest.mark.parametrize(("attestation", "accepted"), [("none", False), ("self", False), ("maker", True)])
def test_attestation_policy_for_roles_that_require_a_hardware_key(settings, leader, attestation, accepted):
    settings.SECURITY_KEY_ROLES = ["leader"]
    response = enrol_key(signed_in(leader), SoftKey(attestation=attestation))
    assert (response.status_code == 200) is accepted, response.content
    if not accepted:
        assert response.json()["code"] == "attestation_refused"
        assert AuditEvent.objects.filter(action="auth.security_key_failed.register").exists()


@pytest.mark.django_db
def test_attestation_policy_aaguid_list_and_maker_roots(settings, leader, tmp_path):
    settings.SECURITY_KEY_ROLES = ["leader"]
    client = signed_in(leader)
    settings.WEBAUTHN_ALLOWED_AAGUIDS = ["cb69481e-8ff7-4039-93ec-0a2729a154a8"]
    refused = enrol_key(client, SoftKey(attestation="maker"))
    assert refused.status_code == 403 and "AAGUID" in refused.json()["detail"]
    key = SoftKey(attestation="maker", aaguid=bytes.fromhex("cb69481e8ff7403993ec0a2729a154a8"))
    step_up_session(client)
    # a chain to a root that is not the maker's is refused; the maker's root is accepted
    other = SoftKey(attestation="maker")
    other.register({"challenge": "x", "rp": {"id": "x"}})
    (tmp_path / "other.pem").write_bytes(other.maker_root_pem)
    settings.WEBAUTHN_ATTESTATION_ROOTS = [str(tmp_path / "other.pem")]
    assert enrol_key(client, key).status_code == 422
    settings.WEBAUTHN_ATTESTATION_ROOTS = []
    assert enrol_key(client, key).status_code == 200
    # users outside the listed roles may use any key or passkey
    settings.SECURITY_KEY_ROLES = []
    assert enrol_key(client, SoftKey()).status_code == 200


@pytest.mark.django_db
def test_a_key_used_on_another_site_is_refused_and_logged(leader):
    client = signed_in(leader)
    key = SoftKey()
    enrol_key(client, key)
    response = use_key(client, key, origin="https://mchis-gia-mao.example")
    assert response.status_code == 422
    assert "sai nguồn gốc trang" in response.json()["detail"]
    assert AuditEvent.objects.filter(action="auth.security_key_failed.verify", actor=leader).exists()


@pytest.mark.django_db
def test_a_replayed_assertion_is_refused_and_logged(leader):
    client = signed_in(leader)
    key = SoftKey()
    enrol_key(client, key)
    options = post_json(client, "webauthn_auth_begin").json()
    assertion = key.assertion(options)
    assert post_json(client, "webauthn_auth_complete", assertion).status_code == 200
    # the same response again: its challenge was used up
    again = post_json(client, "webauthn_auth_complete", assertion)
    assert again.status_code == 400 and again.json()["code"] == "invalid_state"
    # and against a new challenge it does not match
    post_json(client, "webauthn_auth_begin")
    replay = post_json(client, "webauthn_auth_complete", assertion)
    assert replay.status_code == 422 and "không khớp yêu cầu hiện tại" in replay.json()["detail"]
    assert AuditEvent.objects.filter(action="auth.security_key_failed.verify", actor=leader).count() == 2


@pytest.mark.django_db
def test_revocation_by_the_person_and_by_the_unit_admin(tree, make_user, leader):
    from django_otp_webauthn.models import WebAuthnCredential

    client = signed_in(leader)
    own, lost = SoftKey(), SoftKey()
    enrol_key(client, own)
    enrol_key(client, lost)
    keys = {k.credential_id: k for k in WebAuthnCredential.objects.filter(user=leader)}
    own_row = keys[own.credential_id]
    lost_row = keys[lost.credential_id]
    # the person revokes one key
    assert client.post(reverse("accounts:security_key_revoke", args=[own_row.pk])).status_code == 302
    refused = use_key(client, own)
    assert refused.status_code == 403 and refused.json()["code"] == "credential_disabled"
    # the unit admin revokes the other (a lost key); an admin of another province cannot even see it
    admin = make_user("unit_admin", tree.ttyt_a)
    stranger = make_user("unit_admin", tree.ttyt_b)
    url = reverse("accounts:user_security_key_revoke", args=[leader.pk, lost_row.pk])
    assert signed_in(stranger).post(url).status_code == 404
    assert signed_in(admin).post(url).status_code == 302
    assert not WebAuthnCredential.objects.filter(user=leader, confirmed=True).exists()
    events = AuditEvent.objects.filter(action="account.security_key_revoke")
    assert {e.actor_id for e in events} == {leader.pk, admin.pk}
    # someone else's key id on the own-key route is 404
    other = make_user("leader", tree.tyt_a2)
    assert (
        signed_in(other).post(reverse("accounts:security_key_revoke", args=[lost_row.pk])).status_code == 404
    )
