"""Reactions of the accounts app to core events that are not service calls."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from mchis.core.context import RequestMeta, reset_meta, set_meta
from mchis.core.inputs import CONTROL_ANYWHERE
from mchis.core.middleware import client_ip

from .services import auth_record_login_failure


def visible(text: str) -> str:
    r"""Control characters written out (`\x00`), so the audit row keeps what was tried and stays storable."""
    return CONTROL_ANYWHERE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def login_input_rejected(sender: Any, *, request: HttpRequest, field: str, **kwargs: Any) -> None:
    """A login form refused for its input (e.g. a NUL in the username) is still a failed login (R-SEC-05)."""
    try:
        login_path = reverse("accounts:login")
    except NoReverseMatch:  # a URLconf without the accounts pages (some tests)
        return
    if request.method != "POST" or request.path != login_path:
        return
    token = set_meta(RequestMeta(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")))
    try:
        auth_record_login_failure(
            username=visible(request.POST.get("username", "")), locked_out=False, lock_started=False
        )
    finally:
        reset_meta(token)
