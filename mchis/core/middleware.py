"""Request context for the audit log, and security headers (CSP without unsafe-inline scripts)."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from .context import RequestMeta, reset_meta, set_meta
from .errors import DomainError, PermissionDeniedError, StepUpRequired
from .inputs import InputRejected, check_text, has_control_chars, parse_json_body
from .stepup import step_up_redirect

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)


def client_ip(request: HttpRequest) -> str:
    """The client's address for the audit log and the login lockout (django-axes AXES_CLIENT_IP_CALLABLE).

    REMOTE_ADDR unless settings.TRUSTED_PROXY_COUNT = N > 0: then the N-th X-Forwarded-For entry from the right,
    the one our own proxy wrote (entries further left come from the client and are not trusted). A missing or
    malformed entry falls back to REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote


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
            # Swagger UI: our own scripts only (its settings travel as JSON data); it styles inline.
            response.headers.setdefault(
                "Content-Security-Policy",
                CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
            )
        else:
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        # Pages and API answers may carry personal data: never stored by a browser or a shared cache
        # (static files are answered by WhiteNoise before this point and keep their long cache).
        if "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
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
        if isinstance(exception, OverflowError):  # an id too large for the database: no such object
            return HttpResponse("Không tìm thấy.", status=404, content_type="text/plain; charset=utf-8")
        return None


# Sent when a request is refused for its input, before any view runs (kwargs: request, field). The accounts
# app listens for the login form, so a failed login with a NUL in the username is still audited.
input_rejected = Signal()

JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class InputSanitizingMiddleware:
    """The one input-sanitising layer (mchis.core.inputs) for pages and the API, before any view runs.

    Control characters in the path → 404; in a query parameter, form field or JSON string → 422 naming the
    field; JSON bodies are parsed once here (UTF-8, depth, finite numbers) and handed to django-ninja through
    `mchis.core.api.SanitizedParser`. Bodies larger than DATA_UPLOAD_MAX_MEMORY_SIZE are left to the view that
    streams them (the register batch API), which parses with the same `parse_json_body`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_control_chars(request.path, allow_whitespace=False):
            if is_api(request):
                return JsonResponse({"code": "not_found", "message": "Không tìm thấy."}, status=404)
            return HttpResponse("Không tìm thấy.", status=404, content_type="text/plain; charset=utf-8")
        try:
            self.check(request)
        except InputRejected as exc:
            input_rejected.send(sender=type(self), request=request, field=exc.field)
            if is_api(request):
                return JsonResponse(exc.as_dict(), status=exc.status_code)
            return render(
                request, "core/input_rejected.html", {"message": exc.message}, status=exc.status_code
            )
        return self.get_response(request)

    @staticmethod
    def check(request: HttpRequest) -> None:
        for key, values in request.GET.lists():
            check_text(key, field=key[:60] or "query", allow_whitespace=False)
            for value in values:
                check_text(value, field=key[:60])
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        content_type = (request.content_type or "").lower()
        if content_type in JSON_TYPES or content_type.endswith("+json"):
            length = request.META.get("CONTENT_LENGTH") or "0"
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if not length.isdigit() or (limit is not None and int(length) > limit):
                return
            if request.body:
                # Not JSON at all (ValueError): the view answers 400 with its own wording.
                with contextlib.suppress(ValueError):
                    request._mchis_json = parse_json_body(request.body)  # type: ignore[attr-defined]
        elif content_type in FORM_TYPES and not (content_type == "multipart/form-data" and is_api(request)):
            # (API multipart bodies stay unread here, so a JSON handler can still read the raw body; their
            # form fields go through SanitizedParser.parse_querydict.)
            for key, values in request.POST.lists():
                check_text(key, field=key[:60] or "form", allow_whitespace=False)
                for value in values:
                    check_text(value, field=key[:60])
