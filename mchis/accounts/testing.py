"""Test helpers for any app: a recent step-up (R-SEC-04) for a service call or for a test client's session,
and TOTP codes computed from a device's key."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.utils import timezone
from django_otp.oath import totp

from mchis.core.context import current_meta, reset_meta, set_meta

from .middleware import STEP_UP_KEY


@contextmanager
def stepped_up(at: datetime | None = None) -> Iterator[None]:
    """Run service calls as if the person had passed a second-factor check at `at` (default: now)."""
    token = set_meta(replace(current_meta(), step_up_at=at or timezone.now()))
    try:
        yield
    finally:
        reset_meta(token)


def step_up_session(client: Any, seconds_ago: float = 0) -> None:
    """Mark a logged-in test client's session as stepped up `seconds_ago`."""
    session = client.session
    session[STEP_UP_KEY] = time.time() - seconds_ago
    session.save()


def totp_code(device: Any, ahead: int = 0) -> str:
    """The current TOTP code of a django-otp TOTPDevice (`ahead` steps in the future)."""
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + ahead)
    return str(value).zfill(device.digits)
