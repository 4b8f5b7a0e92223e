"""API authentication: the session cookie for people, `Authorization: Bearer <token>` for machine clients."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import SessionAuth


class PublicOrSession(SessionAuth):
    pass


def session_user(request: HttpRequest) -> Any:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    return None


api_auth = [SessionAuth()]
