"""ADR 0071: our exchange signing keys are stored encrypted with a key from the environment; the public set is
published; rotation keeps working; a wrong key is a clear configuration error; old clear rows can be sealed."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from mchis.core.jws import generate_private_jwk, public_jwk, sign_detached, verify_detached
from mchis.integrations.exchange import keys
from mchis.integrations.models import SigningKey


@pytest.fixture
def env_key(settings):
    settings.EXCHANGE_KEY_ENCRYPTION_KEY = Fernet.generate_key().decode()
    return settings


@pytest.mark.django_db
def test_r_int_05_the_private_key_is_never_stored_in_clear(env_key):
    kid = keys.signing_key_rotate(actor=None)
    row = SigningKey.objects.get(kid=kid)
    stored = json.dumps(row.private_jwk)
    private = keys.active_private_jwk()
    assert set(row.private_jwk) == {"enc"} and private["d"] not in stored
    # what it signs verifies against the published set (GET /api/v1/exchanges/jwks)
    signature = sign_detached(b"{}", private_jwk=private, audience="ehr")
    assert verify_detached(signature, b"{}", jwks=keys.public_jwks(), audience="ehr").kid == kid
    assert all("d" not in k for k in keys.public_jwks()["keys"])


@pytest.mark.django_db
def test_r_int_05_another_environment_key_cannot_unlock_them(env_key):
    keys.signing_key_rotate(actor=None)
    env_key.EXCHANGE_KEY_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(ImproperlyConfigured, match="EXCHANGE_KEY_ENCRYPTION_KEY"):
        keys.active_private_jwk()
    env_key.EXCHANGE_KEY_ENCRYPTION_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="chưa được cấu hình"):
        keys.active_private_jwk()


@pytest.mark.django_db
def test_r_int_05_keys_stored_in_clear_before_are_sealed_by_the_command(env_key):
    private = generate_private_jwk("legacy")
    SigningKey.objects.create(kid="legacy", private_jwk=private, public_jwk=public_jwk(private),
                              created_at="2026-01-01T00:00:00Z")  # fmt: skip
    assert keys.active_private_jwk() == private  # still signs meanwhile
    call_command("exchange_keys", "--encrypt")
    assert set(SigningKey.objects.get(kid="legacy").private_jwk) == {"enc"}
    assert keys.active_private_jwk() == private


@pytest.mark.django_db
def test_r_int_05_rotation_publishes_old_and_new_until_the_old_retires(env_key):
    first = keys.signing_key_rotate(actor=None)
    second = keys.signing_key_rotate(actor=None)
    assert {k["kid"] for k in keys.public_jwks()["keys"]} == {first, second}
    assert keys.active_private_jwk()["kid"] == second
