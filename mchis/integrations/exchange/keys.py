"""Our signing keys: the active one, the public set (JWKS), rotation without downtime (R-INT-05).

Private keys are stored encrypted (ADR 0071): `SigningKey.private_jwk` holds {"enc": <Fernet token>} made with
EXCHANGE_KEY_ENCRYPTION_KEY (from the environment, never in the database); a database dump or a backup alone
cannot sign. Rows written before the encryption (a plain JWK with "d") still work and are encrypted in place
by `exchange_keys --encrypt`."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mchis.core.audit import log_event

from ..models import SigningKey
from .signing import generate_private_jwk, public_jwk

ROTATION_OVERLAP = timedelta(days=7)
"""How long a replaced key still verifies: receivers refresh our JWKS well within it."""


def _fernet() -> Fernet:
    key = str(getattr(settings, "EXCHANGE_KEY_ENCRYPTION_KEY", "") or "")
    if not key:
        raise ImproperlyConfigured(
            "EXCHANGE_KEY_ENCRYPTION_KEY chưa được cấu hình (khóa Fernet, tạo bằng "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)."
        )
    try:
        return Fernet(key.encode())
    except ValueError as exc:
        raise ImproperlyConfigured("EXCHANGE_KEY_ENCRYPTION_KEY không phải khóa Fernet hợp lệ.") from exc


def seal(private: dict[str, Any]) -> dict[str, str]:
    """The private JWK as stored: encrypted with the key from the environment."""
    return {"enc": _fernet().encrypt(json.dumps(private).encode()).decode()}


def unseal(stored: dict[str, Any]) -> dict[str, Any]:
    if "enc" not in stored:
        return dict(stored)  # written before ADR 0071: `exchange_keys --encrypt` seals it
    try:
        return dict(json.loads(_fernet().decrypt(str(stored["enc"]).encode())))
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "Không giải mã được khóa ký liên thông: EXCHANGE_KEY_ENCRYPTION_KEY khác khóa đã dùng để mã hóa."
        ) from exc


@transaction.atomic
def signing_keys_encrypt(*, actor: Any) -> int:
    """Seal every key still stored in clear; returns how many were sealed."""
    sealed = 0
    for key in SigningKey.objects.select_for_update():
        if "enc" not in key.private_jwk:
            key.private_jwk = seal(key.private_jwk)
            key.save(update_fields=["private_jwk"])
            sealed += 1
    if sealed:
        log_event(actor=actor, action="exchange.keys_encrypted", object_type="SigningKey", object_id="",
                  changes={"entries": [None, sealed]})  # fmt: skip
    return sealed


def _new_kid(now: datetime) -> str:
    return f"mchis-{now:%Y%m%d}-{secrets.token_hex(3)}"


@transaction.atomic
def signing_key_rotate(
    *, actor: Any, overlap: timedelta = ROTATION_OVERLAP, now: datetime | None = None
) -> str:
    """Create a new active key; the current ones retire after `overlap` (still published until then)."""
    now = now or timezone.now()
    kid = _new_kid(now)
    private = generate_private_jwk(kid)
    SigningKey.objects.filter(Q(retires_at__isnull=True) | Q(retires_at__gt=now + overlap)).update(
        retires_at=now + overlap
    )
    SigningKey.objects.create(
        kid=kid, private_jwk=seal(private), public_jwk=public_jwk(private), created_at=now
    )
    log_event(
        actor=actor,
        action="exchange.key_rotated",
        object_type="SigningKey",
        object_id=kid,
        changes={"kid": [None, kid], "previous_retire_at": [None, (now + overlap).isoformat()]},
    )
    return kid


def active_private_jwk(now: datetime | None = None) -> dict[str, Any]:
    """The key that signs now (created on first use, so a fresh install signs from its first request)."""
    now = now or timezone.now()
    key = SigningKey.objects.filter(retires_at__isnull=True).order_by("-created_at").first()
    if key is None:
        signing_key_rotate(actor=None, now=now)
        key = SigningKey.objects.filter(retires_at__isnull=True).order_by("-created_at").first()
    assert key is not None
    return unseal(key.private_jwk)


def public_jwks(now: datetime | None = None) -> dict[str, Any]:
    """Every key a receiver may still meet: the active one and those within their overlap."""
    now = now or timezone.now()
    keys = SigningKey.objects.filter(Q(retires_at__isnull=True) | Q(retires_at__gt=now)).order_by(
        "-created_at"
    )
    return {"keys": [dict(k.public_jwk) for k in keys]}
