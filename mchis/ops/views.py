"""Probes and metrics: thin views over mchis.ops.health and mchis.ops.metrics."""

from __future__ import annotations

from typing import cast

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from mchis.accounts.auth import principal_for, resolve_token
from mchis.accounts.permissions import can
from mchis.core.principal import Principal

from . import health, metrics


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """The process answers. Touches no dependency, so a database outage never restarts the web."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness of the web (default) or of one component (?component=…); public, names no vendor/version."""
    states = health.component_states()
    component = request.GET.get("component", "")
    if component:
        key = component if component in states else f"worker:{component}"
        if key not in states:
            return JsonResponse(
                {"status": "error", "detail": f"Thành phần không xác định: {component}"}, status=404
            )
        ok = states[key] in ("ok", "not_configured")
        return JsonResponse({"status": "ok" if ok else "down", "component": key}, status=200 if ok else 503)
    ready_ = all(states[name] == "ok" for name in health.WEB_REQUIRES)
    degraded = any(state == "down" for state in states.values())
    status = "ok" if ready_ and not degraded else ("degraded" if ready_ else "error")
    return JsonResponse({"status": status, "components": states}, status=200 if ready_ else 503)


def _metrics_principal(request: HttpRequest) -> Principal | None:
    """A signed-in person, or a machine client's bearer token (Prometheus: `authorization: credentials_file`)."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        client, _reason = resolve_token(header.removeprefix("Bearer ").strip())
        return principal_for(client) if client is not None else None
    user = getattr(request, "user", None)
    return cast(Principal, user) if getattr(user, "is_authenticated", False) else None


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition, refused to anonymous callers (401) and to people without `ops.view` (403)."""
    try:
        principal = _metrics_principal(request)
    except DatabaseError:  # no database, no token check: the scrape fails and MchisDown/up==0 alerts
        return HttpResponse("Cơ sở dữ liệu không truy cập được.", status=503, content_type="text/plain")
    if principal is None:
        response = HttpResponse(
            "Cần đăng nhập hoặc mã truy cập (Bearer).", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not can(principal, "ops.view"):
        return HttpResponse("Không có quyền xem số liệu giám sát.", status=403, content_type="text/plain")
    return HttpResponse(metrics.render(), content_type="text/plain; version=0.0.4; charset=utf-8")
