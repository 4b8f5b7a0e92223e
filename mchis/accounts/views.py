"""Pages for login, passwords, second factor, sessions, account administration and machine clients.

Thin: forms in, services for every write, selectors for every read.
"""

from __future__ import annotations

import base64
import io
import time
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from mchis.core.errors import DomainError, StepUpRequired
from mchis.core.http import AuthedRequest

from . import selectors, services
from .forms import (
    AccountCreateForm,
    ApiClientCreateForm,
    LoginForm,
    OtpCodeForm,
    OtpEnrolForm,
    PasswordChangeForm,
    ReasonForm,
    RoleChangeForm,
)
from .middleware import LAST_ACTIVITY_KEY, mark_step_up
from .permissions import can
from .roles import Role
from .stepup import handles_step_up, take_pending_post

PASSWORD_EXPIRY_WARNING_DAYS = 14

# --- helpers -------------------------------------------------------------------------------------


def _safe_next(request: HttpRequest, default: str = "/") -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _require(request: AuthedRequest, action: str) -> None:
    if not can(request.user, action):
        raise PermissionDenied(_("Bạn không có quyền thực hiện thao tác này."))


def _form_error(form: Any, exc: DomainError) -> None:
    field = exc.field if exc.field in getattr(form, "fields", {}) else None
    errors = getattr(exc, "errors", None)
    if errors:
        for err in errors:
            name = err.get("field")
            form.add_error(name if name in form.fields else None, str(err.get("message")))
    else:
        form.add_error(field, exc.message)


def _qr_data_uri(text: str) -> str:
    """The otpauth:// URL as an SVG QR code in a data: URI (CSP allows data: images, no script needed)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# --- login / logout / sessions -------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Đăng nhập. Success and failure are audited; django-axes counts failures per account and per IP."""

    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        self.request.session[LAST_ACTIVITY_KEY] = time.time()
        user = form.get_user()
        services.auth_record_login(user=user)
        days_left = user.password_days_left()
        if days_left is not None and 0 < days_left <= PASSWORD_EXPIRY_WARNING_DAYS:
            messages.warning(
                self.request,
                _("Mật khẩu quản trị của bạn sẽ hết hạn sau %(days)s ngày. Hãy đổi mật khẩu sớm.")
                % {"days": days_left},
            )
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        request = self.request
        locked = bool(getattr(request, "axes_locked_out", False))
        failures = getattr(request, "axes_failures_since_start", None) or 0
        services.auth_record_login_failure(
            username=request.POST.get("username", ""),
            locked_out=locked,
            lock_started=locked and failures == settings.AXES_FAILURE_LIMIT,  # the attempt that locked
        )
        return super().form_invalid(form)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.auth_record_logout(user=request.user)
    logout(request)
    messages.info(request, _("Bạn đã đăng xuất."))
    return redirect(settings.LOGIN_URL)


@require_POST
@login_required
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    """Đăng xuất mọi nơi: this and every other session of the account end now."""
    services.account_logout_everywhere(user=request.user)  # type: ignore[arg-type]
    logout(request)
    messages.info(request, _("Bạn đã đăng xuất khỏi mọi thiết bị."))
    return redirect(settings.LOGIN_URL)


@require_POST
@login_required
def keepalive(request: HttpRequest) -> JsonResponse:
    """'Tiếp tục phiên làm việc' in the idle warning: counts as activity."""
    request.session[LAST_ACTIVITY_KEY] = time.time()
    return JsonResponse({"ok": True, "idle_timeout_seconds": settings.SESSION_IDLE_TIMEOUT_SECONDS})


@never_cache
@login_required
def account_security(request: HttpRequest) -> HttpResponse:
    """The person's own security page: password, second factor, sessions."""
    enrolled = selectors.otp_enrolled(request.user)
    return render(request, "accounts/security.html", {"enrolled": enrolled})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a clear Vietnamese page (403), and the refusal is logged."""
    services.security_record_csrf_rejection(
        principal=getattr(request, "user", None),
        method=request.method or "",
        path=request.get_full_path(),
        reason=reason,
    )
    referer = request.META.get("HTTP_REFERER", "")
    back = referer if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}) else "/"
    return render(request, "accounts/csrf_failure.html", {"back_url": back}, status=403)


# --- password ------------------------------------------------------------------------------------


@never_cache
@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Đổi mật khẩu; forced at first login and when an admin password expires (R-SEC-03)."""
    user: Any = request.user
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.account_change_password(
                user=user, new_password=form.cleaned_data["new_password1"]
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("Đã đổi mật khẩu."))
            return redirect(_safe_next(request))
    reason = ""
    if user.must_change_password:
        reason = _("Đây là lần đăng nhập đầu tiên hoặc mật khẩu vừa được cấp lại: vui lòng đặt mật khẩu mới.")
    elif user.password_expired():
        reason = _("Mật khẩu quản trị đã quá hạn %(days)s ngày: vui lòng đặt mật khẩu mới.") % {
            "days": settings.ADMIN_PASSWORD_MAX_AGE_DAYS
        }
    return render(request, "accounts/password_change.html", {"form": form, "reason": reason})


# --- second factor -------------------------------------------------------------------------------


@never_cache
@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Đăng ký xác thực hai lớp (TOTP): QR code, confirm with a first code, then 10 recovery codes."""
    user: Any = request.user
    next_url = _safe_next(request)
    if selectors.otp_enrolled(user):
        messages.info(request, _("Tài khoản đã đăng ký xác thực hai lớp."))
        return redirect(next_url)
    device = services.otp_enrol_begin(user=user)
    form = OtpEnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.otp_enrol_confirm(
                user=user,
                code=form.cleaned_data["code"],
                password=form.cleaned_data["password"],
                enrolment_code=form.cleaned_data["enrolment_code"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            device.refresh_from_db()
            otp_login(request, device)
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": next_url})
    secret = base64.b32encode(device.bin_key).decode("ascii")
    return render(
        request,
        "accounts/otp_setup.html",
        {"form": form, "qr": _qr_data_uri(device.config_url), "secret": secret, "next": next_url},
    )


@never_cache
@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    """Xác thực hai lớp khi đăng nhập (roles in ROLES_REQUIRING_2FA)."""
    user: Any = request.user
    next_url = _safe_next(request)
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.otp_check(user=user, code=form.cleaned_data["code"], purpose="login")
        except DomainError as exc:
            _form_error(form, exc)
        else:
            otp_login(request, device)
            return redirect(next_url)
    return render(request, "accounts/otp_verify.html", {"form": form, "next": next_url})


@never_cache
@login_required
def step_up(request: HttpRequest) -> HttpResponse:
    """Xác thực lại trước thao tác quan trọng: a fresh code opens a STEP_UP_WINDOW_SECONDS window."""
    user: Any = request.user
    next_url = _safe_next(request)
    if not selectors.otp_enrolled(user):
        messages.info(request, _("Thao tác này cần xác thực hai lớp: vui lòng đăng ký trước."))
        here = f"{request.path}?{urlencode({'next': next_url})}"
        return redirect(f"{reverse('accounts:otp_setup')}?{urlencode({'next': here})}")
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.otp_check(user=user, code=form.cleaned_data["code"], purpose="step_up")
        except DomainError as exc:
            _form_error(form, exc)
        else:
            mark_step_up(request)
            pending = take_pending_post(request, next_url)
            if pending is not None:
                # the interrupted form goes again, as typed, and the action completes (issue 13 item 6)
                return render(request, "accounts/step_up_continue.html", {"pending": pending})
            messages.success(request, _("Đã xác thực. Vui lòng thực hiện lại thao tác."))
            return redirect(next_url)
    minutes = max(1, settings.STEP_UP_WINDOW_SECONDS // 60)
    return render(request, "accounts/step_up.html", {"form": form, "next": next_url, "minutes": minutes})


# --- account administration (R-SEC-01) -----------------------------------------------------------


@login_required
def user_list(request: AuthedRequest) -> HttpResponse:
    _require(request, "account.manage")
    q, role, status = request.GET.get("q", ""), request.GET.get("role", ""), request.GET.get("status", "")
    qs = selectors.accounts_visible(request.user, q=q, role=role, status=status)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    locked = selectors.locked_usernames([u.username for u in page.object_list])
    return render(
        request,
        "accounts/user_list.html",
        {
            "page": page,
            "locked": locked,
            "q": q,
            "role": role,
            "status": status,
            "roles": Role.choices,
            "can_tokens": can(request.user, "token.manage"),
            "locked_ips": selectors.locked_ips() if can(request.user, "account.unlock_ip") else [],
        },
    )


@never_cache
@login_required
@handles_step_up
def user_create(request: AuthedRequest) -> HttpResponse:
    _require(request, "account.manage")
    form = AccountCreateForm(
        request.POST or None,
        units=selectors.units_manageable(request.user),
        roles=services.assignable_roles(request.user),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account, initial = services.account_create(
                actor=request.user,
                username=data["username"],
                unit=data["unit"],
                role=data["role"],
                full_name=data["full_name"],
                email=data["email"],
            )
        except StepUpRequired:
            raise  # → the step-up page, then this form is sent again as typed
        except DomainError as exc:
            _form_error(form, exc)
        else:
            # Shown once, never stored in clear: the page is not cached and is not reachable again.
            return render(request, "accounts/password_issued.html", {"account": account, "password": initial})
    return render(request, "accounts/user_form.html", {"form": form})


@login_required
def user_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    _require(request, "account.manage")
    account = selectors.account_get(request.user, pk)
    return render(
        request,
        "accounts/user_detail.html",
        {
            "account": account,
            "locked": account.username in selectors.locked_usernames([account.username]),
            "enrolled": selectors.otp_enrolled(account),
            "is_self": account.ref == request.user.ref,
            "reason_form": ReasonForm(),
        },
    )


@never_cache
@login_required
@handles_step_up
def user_change_role(request: AuthedRequest, pk: int) -> HttpResponse:
    """Đổi vai trò — a critical action: step-up first (R-SEC-04)."""
    _require(request, "account.manage")
    account = selectors.account_get(request.user, pk)
    form = RoleChangeForm(request.POST or None, roles=services.assignable_roles(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.account_change_role(
                actor=request.user,
                account=account,
                role=form.cleaned_data["role"],
                reason=form.cleaned_data["reason"],
            )
        except StepUpRequired:
            raise
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Đã đổi vai trò."))
            return redirect("accounts:user_detail", pk=account.pk)
    return render(request, "accounts/user_role.html", {"account": account, "form": form})


def _account_action(request: AuthedRequest, pk: int, action: Any, done: str) -> HttpResponse:
    _require(request, "account.manage")
    account = selectors.account_get(request.user, pk)
    try:
        action(account)
    except StepUpRequired:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("accounts:user_detail", pk=account.pk)


@require_POST
@login_required
def user_deactivate(request: AuthedRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _account_action(
        request,
        pk,
        lambda a: services.account_set_active(actor=request.user, account=a, active=False, reason=reason),
        _("Đã vô hiệu hóa tài khoản."),
    )


@require_POST
@login_required
def user_reactivate(request: AuthedRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _account_action(
        request,
        pk,
        lambda a: services.account_set_active(actor=request.user, account=a, active=True, reason=reason),
        _("Đã kích hoạt lại tài khoản."),
    )


@require_POST
@login_required
def user_unlock(request: AuthedRequest, pk: int) -> HttpResponse:
    return _account_action(
        request,
        pk,
        lambda a: services.account_unlock(actor=request.user, account=a),
        _("Đã mở khóa tài khoản."),
    )


@login_required
@handles_step_up
def user_reset_otp(request: AuthedRequest, pk: int) -> HttpResponse:
    """Đặt lại xác thực hai lớp (audited, step-up). GET after the step-up shows the confirmation again."""
    if request.method != "POST":
        _require(request, "account.manage")
        account = selectors.account_get(request.user, pk)
        return render(request, "accounts/user_confirm.html", {"account": account, "what": "reset_otp"})
    reason = request.POST.get("reason", "")
    return _account_action(
        request,
        pk,
        lambda a: services.account_reset_otp(actor=request.user, account=a, reason=reason),
        _("Đã đặt lại xác thực hai lớp. Người dùng sẽ đăng ký lại khi đăng nhập."),
    )


@never_cache
@require_POST
@login_required
def user_reset_password(request: AuthedRequest, pk: int) -> HttpResponse:
    _require(request, "account.manage")
    account = selectors.account_get(request.user, pk)
    try:
        initial = services.account_reset_password(actor=request.user, account=account)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:user_detail", pk=account.pk)
    return render(request, "accounts/password_issued.html", {"account": account, "password": initial})


@never_cache
@require_POST
@login_required
def user_enrolment_code(request: AuthedRequest, pk: int) -> HttpResponse:
    """Cấp mã đăng ký xác thực hai lớp: shown once, handed to the person (R-SEC-04, issue 10 item 3)."""
    _require(request, "account.manage")
    account = selectors.account_get(request.user, pk)
    try:
        code = services.account_issue_enrolment_code(actor=request.user, account=account)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:user_detail", pk=account.pk)
    return render(
        request,
        "accounts/enrolment_code_issued.html",
        {"account": account, "code": code, "hours": services.ENROLMENT_CODE_HOURS},
    )


@require_POST
@login_required
def ip_unlock(request: AuthedRequest) -> HttpResponse:
    _require(request, "account.unlock_ip")
    ip = request.POST.get("ip_address", "")
    try:
        services.ip_unlock(actor=request.user, ip_address=ip)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Đã mở khóa địa chỉ IP %(ip)s.") % {"ip": ip})
    return redirect("accounts:user_list")


# --- machine clients -----------------------------------------------------------------------------


@login_required
def token_list(request: AuthedRequest) -> HttpResponse:
    _require(request, "token.manage")
    return render(
        request, "accounts/token_list.html", {"clients": selectors.api_clients_visible(request.user)}
    )


@never_cache
@login_required
def token_create(request: AuthedRequest) -> HttpResponse:
    _require(request, "token.manage")
    form = ApiClientCreateForm(request.POST or None, units=selectors.units_manageable(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            client, token = services.api_client_create(
                actor=request.user,
                name=data["name"],
                unit=data["unit"],
                scopes=data["scopes"],
                days=data["days"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            return render(request, "accounts/token_issued.html", {"client": client, "token": token})
    return render(request, "accounts/token_form.html", {"form": form})


@require_POST
@login_required
def token_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    _require(request, "token.manage")
    client = selectors.api_client_get(request.user, pk)
    try:
        services.api_client_revoke(actor=request.user, client=client, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Đã thu hồi mã truy cập của %(name)s.") % {"name": client.name})
    return redirect("accounts:token_list")
