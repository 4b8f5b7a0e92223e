"""Session rules for people and the audit of machine-client calls (R-SEC-03, R-SEC-04, R-SEC-07).

One middleware, after authentication, django-otp and the request context (see MIDDLEWARE in settings):
1. idle timeout: a session untouched for SESSION_IDLE_TIMEOUT_SECONDS is logged out (server-side);
2. forced password change (first login, expired admin password): pages redirect to the change form,
   the API answers 403 `password_change_required`;
3. roles in ROLES_REQUIRING_2FA must enrol and verify a second factor before anything else
   (API: 403 `otp_required`);
4. the session's last step-up time goes into RequestMeta.step_up_at for `require_step_up()`;
5. after the response, a call made with a Bearer token is audited as `client.call`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from mchis.core.context import current_meta, reset_meta, set_meta

from .auth import REQUEST_ATTR
from .services import api_client_record_call, auth_record_logout, settings_roles_requiring_2fa
from .stepup import page_redirect
from .webauthn import requires_security_key

LAST_ACTIVITY_KEY = "mchis_last_activity"
STEP_UP_KEY = "mchis_step_up_at"
STEP_UP_METHOD_KEY = "mchis_step_up_method"
# Writing the session on every request is wasteful; a few seconds of slack does not matter.
ACTIVITY_WRITE_SLACK_SECONDS = 10

# The security-key login ceremony (begin/complete, and its scripts' messages) must be reachable before the second
# factor is verified.
WEBAUTHN_AUTH_PREFIX = ("/accounts/webauthn/authentication/", "/accounts/webauthn/i18n/")
# Always reachable, whatever the account still has to do.
OPEN_PREFIXES = ("/static/", "/health", "/i18n/", "/accounts/login/", "/accounts/logout/", "/favicon")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _has_bearer(request: HttpRequest) -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


def step_up_time(request: HttpRequest) -> datetime | None:
    stamp = request.session.get(STEP_UP_KEY) if hasattr(request, "session") else None
    if stamp is None:
        return None
    return datetime.fromtimestamp(float(stamp), tz=UTC)


def step_up_method(request: HttpRequest) -> str:
    return str(request.session.get(STEP_UP_METHOD_KEY, "") or "") if hasattr(request, "session") else ""


def mark_step_up(request: HttpRequest, method: str = "totp") -> None:
    """Record a successful second-factor check now (the step-up window starts), and how it was made."""
    request.session[STEP_UP_KEY] = time.time()
    request.session[STEP_UP_METHOD_KEY] = method
    set_meta(replace(current_meta(), step_up_at=step_up_time(request), step_up_method=method))


def requires_2fa(user: object) -> bool:
    return getattr(user, "role", None) in settings_roles_requiring_2fa()


class AccountSecurityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timeout = int(settings.SESSION_IDLE_TIMEOUT_SECONDS)
        request.idle_timeout_seconds = timeout  # type: ignore[attr-defined]  # read by base.html
        user = getattr(request, "user", None)
        # On the API a Bearer header replaces the session entirely (an invalid token is a 401, never a
        # fall-back to the cookie); anywhere else the header changes nothing, so it cannot dodge these rules.
        people = (
            user is not None and user.is_authenticated and not (_is_api(request) and _has_bearer(request))
        )
        if people:
            early = self._session_rules(request, timeout)
            if early is not None:
                return early
        token = set_meta(
            replace(
                current_meta(),
                step_up_at=step_up_time(request) if people else None,
                step_up_method=step_up_method(request) if people else "",
                security_key_required=bool(people and requires_security_key(user)),
            )
        )
        try:
            response = self.get_response(request)
        finally:
            reset_meta(token)
        principal = getattr(request, REQUEST_ATTR, None)
        if principal is not None:
            api_client_record_call(
                principal=principal,
                method=request.method or "",
                path=request.get_full_path(),
                status=response.status_code,
            )
        return response

    def _session_rules(self, request: HttpRequest, timeout: int) -> HttpResponse | None:
        user = request.user
        now = time.time()
        last = request.session.get(LAST_ACTIVITY_KEY)
        if last is not None and now - float(last) > timeout:
            auth_record_logout(user=user, cause="idle")  # type: ignore[arg-type]
            logout(request)
            if _is_api(request):
                return JsonResponse(
                    {
                        "code": "session_expired",
                        "message": _("Phiên làm việc đã hết hạn, vui lòng đăng nhập lại."),
                    },
                    status=401,
                )
            messages.warning(request, _("Bạn đã không hoạt động quá lâu nên đã được đăng xuất."))
            return page_redirect(
                request, f"{settings.LOGIN_URL}?{urlencode({'next': request.get_full_path()})}"
            )
        if last is None or now - float(last) > ACTIVITY_WRITE_SLACK_SECONDS:
            request.session[LAST_ACTIVITY_KEY] = now

        if request.path.startswith(OPEN_PREFIXES):
            return None
        if user.needs_password_change():  # type: ignore[union-attr]
            change_url = reverse("accounts:password_change")
            if request.path == change_url:
                return None
            if _is_api(request):
                return JsonResponse(
                    {
                        "code": "password_change_required",
                        "message": _("Bạn phải đổi mật khẩu trước khi tiếp tục."),
                    },
                    status=403,
                )
            return page_redirect(request, change_url)
        if requires_2fa(user) and not user.is_verified():  # type: ignore[union-attr]
            setup_url, verify_url = reverse("accounts:otp_setup"), reverse("accounts:otp_verify")
            if request.path in (setup_url, verify_url) or request.path.startswith(WEBAUTHN_AUTH_PREFIX):
                return None
            if _is_api(request):
                return JsonResponse(
                    {"code": "otp_required", "message": _("Cần xác thực hai lớp trước khi tiếp tục.")},
                    status=403,
                )
            enrolled = (
                TOTPDevice.objects.filter(user=user, confirmed=True).exists()
                or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
            )
            target = verify_url if enrolled else setup_url
            return page_redirect(request, f"{target}?{urlencode({'next': request.get_full_path()})}")
        return None
