"""Request context for the audit log, and security headers (CSP without unsafe-inline scripts)."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from .context import RequestMeta, reset_meta, set_meta
from .errors import DomainError, PermissionDeniedError, StepUpRequired
from .stepup import step_up_redirect

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)


def client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is trusted solely behind the production proxy (configured there).
    return request.META.get("REMOTE_ADDR", "") or ""


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = set_meta(
            RequestMeta(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", ""))
        )
        try:
            return self.get_response(request)
        finally:
            reset_meta(token)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/api/v1/docs"):
            # Swagger UI ships its own inline bootstrap; it is limited to the API docs page.
            response.headers.setdefault(
                "Content-Security-Policy",
                CONTENT_SECURITY_POLICY.replace(
                    "script-src 'self'", "script-src 'self' 'unsafe-inline'"
                ).replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
            )
        else:
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


def _same_site_referer(request: HttpRequest) -> str:
    referer = request.META.get("HTTP_REFERER", "")
    return referer if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}) else "/"


class DomainErrorMiddleware:
    """Pages (not the API, which has its own handlers) that let a refusal escape from a service:
    `PermissionDeniedError` / `StepUpRequired` become Django's 403 (the Vietnamese page of handler403), and any
    other `DomainError` the page "error.html" (inside the layout, with a way back) at its own status: never a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, StepUpRequired) and getattr(request, "user", None) is not None:
            # Any page reaching a critical operation sends the person to the step-up screen and back.
            return step_up_redirect(request)
        if isinstance(exception, PermissionDeniedError | StepUpRequired):
            raise PermissionDenied(exception.message) from exception
        if isinstance(exception, DomainError) and not request.path.startswith("/api/"):
            return render(
                request,
                "error.html",
                {
                    "status": exception.status_code,
                    "title": _("Thao tác chưa thực hiện được"),
                    "message": exception.message,
                    "back_url": _same_site_referer(request),
                },
                status=exception.status_code,
            )
        return None
