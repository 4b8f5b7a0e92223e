"""Small HTTP helpers shared by pages."""

from __future__ import annotations

import re

from django.http import HttpRequest

from .principal import Principal

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """A Content-Disposition value whose file name cannot break the header (no quotes, no CR/LF, ASCII only),
    whatever part of it came from the URL."""
    safe = _UNSAFE.sub("_", filename).strip("._") or "tep"
    return f'{"inline" if inline else "attachment"}; filename="{safe[:120]}"'


class AuthedRequest(HttpRequest):
    """The request of a page only signed-in people reach (`login_required`, or `require(...)` first): its user
    is a principal, never AnonymousUser. Django still builds a plain HttpRequest; this only informs the types."""

    # Django types it User | AnonymousUser; core names the user by shape (it sits below accounts).
    user: Principal  # type: ignore[assignment]


class ApiRequest(HttpRequest):
    """A django-ninja request after authentication: `auth` is the person (session) or the machine client
    (bearer token) that `mchis.accounts.auth` let in."""

    auth: Principal
