"""Signed HIS submissions (R-INT-05, ADR 0070): a hospital system signs each bulk submission with a detached JWS
(Ed25519) made with a key registered for its client; unsigned, tampered, foreign-key, wrong-audience and stale
submissions are refused with their own 401 code, audited, and nothing is written."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from mchis.accounts.models import ApiClient
from mchis.accounts.services import api_client_create, api_client_set_signing_keys
from mchis.core.errors import DomainError
from mchis.core.jws import HEADER, generate_private_jwk, public_jwk, sign_detached
from mchis.core.models import AuditEvent
from mchis.registers.models import AncVisit

from .conftest import anc

pytestmark = pytest.mark.urls("mchis.registers.tests.urls")

URL = "/api/v1/registers/anc/records"


@pytest.fixture
def his(tree):
    client, token = api_client_create(
        actor=None, name="HIS Minh Xuân", unit=tree.tyt_a1, scopes=["register.write", "register.view"]
    )
    return client, Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def his_key(his):
    private = generate_private_jwk("his-2026-01")
    api_client_set_signing_keys(actor=None, client=his[0], jwks={"keys": [public_jwk(private)]})
    return private


def send(api, body: bytes, signature: str | None = None, **headers):
    if signature is not None:
        headers[f"HTTP_{HEADER.upper().replace('-', '_')}"] = signature
    return api.post(URL, data=body, content_type="application/json", **headers)


def body_of(*rids: str) -> bytes:
    return json.dumps({"records": [anc(rid=r) for r in rids]}).encode()


@pytest.mark.django_db
def test_r_int_05_a_signed_submission_is_accepted(his, his_key):
    body = body_of("1", "2")
    res = send(his[1], body, sign_detached(body, private_jwk=his_key, audience="mchis"))
    assert res.status_code == 200, res.content
    assert AncVisit.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["unsigned", "tampered", "other_key", "wrong_audience", "stale", "garbled"])
def test_r_int_05_badly_signed_submissions_are_refused_with_their_reason(his, his_key, case):
    body = body_of("1")
    sign = lambda data, **kw: sign_detached(data, private_jwk=his_key, audience="mchis", **kw)  # noqa: E731
    signature, code = {
        "unsigned": (None, "missing_signature"),
        "tampered": (sign(body_of("9")), "bad_signature"),
        "other_key": (sign_detached(body, private_jwk=generate_private_jwk("stolen"), audience="mchis"),
                      "unknown_key"),
        "wrong_audience": (sign_detached(body, private_jwk=his_key, audience="ehr"), "wrong_audience"),
        "stale": (sign(body, now=0), "clock_skew"),
        "garbled": ("not-a-jws", "malformed_signature"),
    }[case]  # fmt: skip
    res = send(his[1], body, signature)
    assert res.status_code == 401, res.content
    assert res.json()["code"] == code
    assert "X-Signature" in res.json()["message"] or res.json()["field"] == HEADER
    assert not AncVisit.objects.exists()
    refused = AuditEvent.objects.get(action="client.signature_refused")
    assert refused.changes["reason"] == [None, code] and refused.object_id == str(his[0].pk)


@pytest.mark.django_db
def test_r_int_05_the_idempotency_key_must_match_the_signed_jti(his, his_key):
    body = body_of("1")
    signature = sign_detached(body, private_jwk=his_key, audience="mchis", jti="batch-1")
    res = send(his[1], body, signature, HTTP_IDEMPOTENCY_KEY="batch-2")
    assert res.status_code == 401 and res.json()["code"] == "jti_mismatch"
    assert send(his[1], body, signature, HTTP_IDEMPOTENCY_KEY="batch-1").status_code == 200


@pytest.mark.django_db
def test_r_int_05_when_required_a_client_without_keys_cannot_submit(his, settings):
    settings.INBOUND_SIGNATURE_REQUIRED = True
    res = send(his[1], body_of("1"))
    assert res.status_code == 401 and res.json()["code"] == "no_signing_key"
    assert not AncVisit.objects.exists()


@pytest.mark.django_db
def test_r_int_05_a_rotation_overlaps_old_and_new_keys(his, his_key):
    new = generate_private_jwk("his-2026-02")
    api_client_set_signing_keys(
        actor=None, client=his[0], jwks={"keys": [public_jwk(his_key), public_jwk(new)]}
    )
    for rid, key in (("1", his_key), ("2", new)):
        body = body_of(rid)
        assert send(his[1], body, sign_detached(body, private_jwk=key, audience="mchis")).status_code == 200
    api_client_set_signing_keys(actor=None, client=his[0], jwks={"keys": [public_jwk(new)]})
    body = body_of("3")
    res = send(his[1], body, sign_detached(body, private_jwk=his_key, audience="mchis"))
    assert res.status_code == 401 and res.json()["code"] == "unknown_key"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "jwks",
    [
        {},
        {"keys": []},
        {"keys": [{"kty": "RSA", "kid": "a"}]},
        "keys",
        {"keys": [{"kty": "OKP", "crv": "Ed25519"}]},
    ],
)
def test_bad_key_sets_are_refused_with_a_reason(his, jwks):
    with pytest.raises(DomainError, match="JWKS|Ed25519|kid") as refused:
        api_client_set_signing_keys(actor=None, client=his[0], jwks=jwks)
    assert refused.value.field == "jwks"
    assert ApiClient.objects.get(pk=his[0].pk).signing_jwks == {}


@pytest.mark.django_db
def test_a_private_key_is_never_registered(his):
    private = generate_private_jwk("k")
    with pytest.raises(DomainError, match="khóa bí mật") as refused:
        api_client_set_signing_keys(actor=None, client=his[0], jwks={"keys": [private]})
    assert refused.value.code == "private_key"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", ["unsigned", "unknown_token"])
def test_r_int_05_refusals_are_answered_and_audited_outside_a_test_transaction(his, case, settings):
    """Found by bench/registers_api.py against gunicorn: with no transaction around the request (production;
    tests normally run inside one), recording the refusal crashed (HTTP 500) instead of answering 401."""
    settings.INBOUND_SIGNATURE_REQUIRED = True
    api = his[1] if case == "unsigned" else Client(HTTP_AUTHORIZATION="Bearer mchis_nope_0123456789abcdef")
    res = send(api, body_of("1"))
    assert res.status_code == 401, res.content
    action = "client.signature_refused" if case == "unsigned" else "client.rejected"
    assert AuditEvent.objects.filter(action=action).exists()
    assert not AncVisit.objects.exists()
