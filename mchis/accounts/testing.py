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


@contextmanager
def not_stepped_up() -> Iterator[None]:
    """Run service calls as if the person had never passed a second-factor check (the refusal case)."""
    token = set_meta(replace(current_meta(), step_up_at=None))
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


def fresh_totp_code(device: Any) -> str:
    """A TOTP code the device will accept now: django-otp refuses a code of a time step it already accepted
    (replay), so a second code within the same 30 s (enrolment then login, login then step-up) must come from a
    later step - the next one inside the tolerance, or, at worst, after waiting for the clock to reach it."""
    device.refresh_from_db()
    while True:
        now_t = int((time.time() - device.t0) // device.step)
        wanted = max(now_t + device.drift - device.tolerance, device.last_t + 1)
        if wanted <= now_t + device.drift + device.tolerance:
            return totp_code(device, ahead=wanted - now_t - device.drift)
        time.sleep(1)


def enrol_totp(
    user: Any,
    password: str = "Passw0rd!x",  # noqa: S107 - the password every test account gets
) -> tuple[Any, list[str]]:
    """A confirmed TOTP device for `user` made through the real flow: its admin issues the one-time enrolment
    code (a system job here), the person confirms with its password, that code and a first TOTP code."""
    from .services import account_issue_enrolment_code, otp_enrol_begin, otp_enrol_confirm

    enrolment_code = account_issue_enrolment_code(actor=None, account=user)
    device = otp_enrol_begin(user=user)
    codes = otp_enrol_confirm(
        user=user, code=totp_code(device), password=password, enrolment_code=enrolment_code
    )
    device.refresh_from_db()
    return device, codes
