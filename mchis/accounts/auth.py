"""API authentication: the session cookie for people, `Authorization: Bearer <token>` for machine clients.

A valid token becomes a `ClientPrincipal` (unit + scopes, no role): `permissions.can()` checks its scopes and
`scoping.visible_to()` bounds it to its unit's subtree like a person. Unknown, expired and revoked tokens get
401 with a JSON message and are logged; every accepted call is audited by AccountSecurityMiddleware.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from mchis.core.context import current_meta, set_meta
from mchis.core.errors import DomainError

from .models import ApiClient
from .services import api_client_record_rejected, hash_token, split_token

REQUEST_ATTR = "mchis_api_client"


class InvalidToken(DomainError):
    status_code = 401
    code = "invalid_token"


@dataclass(frozen=True)
class ClientPrincipal:
    """A machine client acting through the API (máy khách tích hợp)."""

    pk: int
    client_name: str
    unit: Any
    scopes: frozenset[str]
    is_active: bool = True
    is_authenticated: bool = True
    is_superuser: bool = False
    role: None = None

    def __str__(self) -> str:
        return f"client:{self.client_name}"


def principal_for(client: ApiClient) -> ClientPrincipal:
    return ClientPrincipal(
        pk=client.pk, client_name=client.name, unit=client.unit, scopes=frozenset(client.scopes)
    )


def resolve_token(token: str) -> tuple[ApiClient | None, str]:
    """(client, "") for a usable token, else (None, reason): unknown / expired / revoked."""
    prefix, _ = split_token(token)
    digest = hash_token(token)
    for client in ApiClient.objects.filter(token_prefix=prefix).select_related("unit"):
        if hmac.compare_digest(client.token_hash, digest):
            if client.revoked_at is not None:
                return None, "revoked"
            if client.expires_at <= timezone.now():
                return None, "expired"
            return client, ""
    return None, "unknown"


_MESSAGES = {
    "unknown": "Mã truy cập không hợp lệ.",
    "expired": "Mã truy cập đã hết hạn.",
    "revoked": "Mã truy cập đã bị thu hồi.",
}


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` for integrations. Absent header: fall through to the session."""

    def authenticate(self, request: HttpRequest, token: str) -> ClientPrincipal | None:
        client, reason = resolve_token(token)
        if client is None:
            prefix, _ = split_token(token)
            api_client_record_rejected(
                prefix=prefix, reason=reason, method=request.method or "", path=request.path
            )
            raise InvalidToken(_MESSAGES[reason], code=f"token_{reason}")
        principal = principal_for(client)
        setattr(request, REQUEST_ATTR, principal)
        # The audit log names the client for everything done during this request.
        set_meta(replace(current_meta(), client_name=client.name))
        return principal


class AccountSessionAuth(SessionAuth):
    """Session cookie for people; CSRF is still checked for unsafe methods (SessionAuth does it)."""

    # A refusal goes through Django's CSRF check, hence CSRF_FAILURE_VIEW, which audits it.

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


api_auth = [BearerTokenAuth(), AccountSessionAuth()]
