"""API authentication: the session cookie for people, `Authorization: Bearer <token>` for machine clients.

A valid token becomes a `ClientPrincipal` (unit + scopes, no role): `permissions.can()` checks its scopes and
`scoping.visible_to()` bounds it to its unit's subtree like a person. Unknown, expired and revoked tokens get
401 with a JSON message and are logged; every accepted call is audited by AccountSecurityMiddleware.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from mchis.core.context import current_meta, set_meta
from mchis.core.errors import DomainError
from mchis.core.principal import PrincipalRef

from .models import ApiClient
from .services import api_client_record_rejected, hash_token, split_token

REQUEST_ATTR = "mchis_api_client"


class InvalidToken(DomainError):
    status_code = 401
    code = "invalid_token"


@dataclass(frozen=True)
class ClientPrincipal:
    """A machine client acting through the API (máy khách tích hợp)."""

    client_id: int
    client_name: str
    unit: Any
    scopes: frozenset[str]
    is_active: bool = True
    is_authenticated: bool = True
    is_superuser: bool = False
    role: None = None

    @property
    def ref(self) -> PrincipalRef:
        """Typed identity: token N is never user N."""
        return PrincipalRef.token(self.client_id)

    def __str__(self) -> str:
        return f"client:{self.client_name}"


def principal_for(client: ApiClient) -> ClientPrincipal:
    return ClientPrincipal(
        client_id=client.pk, client_name=client.name, unit=client.unit, scopes=frozenset(client.scopes)
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


def _signed_in(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated


def api_docs_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The OpenAPI schema and its docs page: a signed-in person or a valid token, unless API_DOCS_PUBLIC."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not getattr(settings, "API_DOCS_PUBLIC", False) and not _signed_in(request):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or resolve_token(token.strip())[0] is None:
                return JsonResponse(
                    {
                        "code": "unauthorized",
                        "message": "Đăng nhập (hoặc dùng mã truy cập) để xem tài liệu API.",
                    },
                    status=401,
                )
        return view(request, *args, **kwargs)

    return wrapped


api_auth = [BearerTokenAuth(), AccountSessionAuth()]
