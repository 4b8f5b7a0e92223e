"""Our signing keys: the active one, the public set (JWKS), rotation without downtime (R-INT-05)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mchis.core.audit import log_event

from ..models import SigningKey
from .signing import generate_private_jwk, public_jwk

ROTATION_OVERLAP = timedelta(days=7)
"""How long a replaced key still verifies: receivers refresh our JWKS well within it."""


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
    SigningKey.objects.create(kid=kid, private_jwk=private, public_jwk=public_jwk(private), created_at=now)
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
    return dict(key.private_jwk)


def public_jwks(now: datetime | None = None) -> dict[str, Any]:
    """Every key a receiver may still meet: the active one and those within their overlap."""
    now = now or timezone.now()
    keys = SigningKey.objects.filter(Q(retires_at__isnull=True) | Q(retires_at__gt=now)).order_by(
        "-created_at"
    )
    return {"keys": [dict(k.public_jwk) for k in keys]}
