"""Writes to accounts, sessions, second factors and machine clients. Every change is audited in the same
transaction (R-SEC-05); login events are audited too, each in its own small transaction.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mchis.core.audit import log_event
from mchis.core.errors import Conflict, DomainError, PermissionDeniedError, ValidationFailed
from mchis.core.principal import Principal
from mchis.core.scoping import within
from mchis.core.text import nfc

from .models import ApiClient, PasswordHistory, User
from .permissions import MACHINE_ACTIONS, MATRIX, require
from .principals import person_of
from .roles import Role
from .stepup import require_step_up

if TYPE_CHECKING:  # auth imports this module
    from .auth import ClientPrincipal

RECOVERY_CODE_COUNT = 10
TOKEN_PREFIX_LENGTH = 8
TOKEN_MARK = "mchis_"  # noqa: S105 - a visible marker, not a secret


def generate_initial_password(length: int = 14) -> str:
    """A one-time password that satisfies the complexity rules (R-SEC-03)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        core = "".join(secrets.choice(alphabet) for _ in range(length - 2))
        candidate = core + secrets.choice("!@#$%&*?") + secrets.choice(string.digits)
        if any(c.isupper() for c in candidate) and any(c.islower() for c in candidate):
            return candidate


# --- guards shared by the admin services ---------------------------------------------------------


def assignable_roles(actor: Principal | None) -> list[str]:
    """Roles an admin may give: a unit admin never creates or promotes to system admin."""
    if actor is None or actor.role == Role.SYSTEM_ADMIN or actor.is_superuser:
        return list(Role.values)
    return [r for r in Role.values if r != Role.SYSTEM_ADMIN]


def _guard_manage(actor: Principal | None, account: User | None = None, *, unit: Any = None) -> None:
    """The actor holds account.manage and the account (or unit) lies in the actor's subtree (R-SEC-01)."""
    if actor is None:  # bootstrap: management commands and fixtures
        return
    require(actor, "account.manage")
    target_unit = unit if unit is not None else (account.unit if account is not None else None)
    if target_unit is None or not within(actor, target_unit.path):
        raise PermissionDeniedError("Đơn vị nằm ngoài phạm vi quản lý của bạn.", field="unit")
    if (
        account is not None
        and account.role == Role.SYSTEM_ADMIN
        and Role.SYSTEM_ADMIN not in assignable_roles(actor)
    ):
        raise PermissionDeniedError("Chỉ quản trị hệ thống mới quản lý được tài khoản quản trị hệ thống.")


def _not_self(actor: Principal | None, account: User, what: str) -> None:
    if isinstance(actor, User) and actor.pk == account.pk:
        raise PermissionDeniedError(f"Không thể tự {what} tài khoản của chính mình.")


def _record_password(user: User) -> None:
    PasswordHistory.objects.create(user=user, password=user.password)


# --- accounts ------------------------------------------------------------------------------------


@transaction.atomic
def account_create(
    *,
    actor: Principal | None,
    username: str,
    unit: Any,
    role: str,
    full_name: str = "",
    email: str = "",
    password: str | None = None,
) -> tuple[User, str]:
    """Create an account inside `unit` with a one-time initial password; returns (user, password).

    Tài khoản được cấp từ trên xuống: an admin creates accounts only inside its own subtree (R-SEC-01).
    """
    username = nfc(username)
    if not username:
        raise DomainError("Vui lòng nhập tên đăng nhập.", field="username")
    if role not in Role.values:
        raise DomainError(f"Vai trò '{role}' không hợp lệ.", field="role")
    if unit is None:
        raise DomainError("Vui lòng chọn đơn vị.", field="unit")
    _guard_manage(actor, unit=unit)
    if role not in assignable_roles(actor):
        raise PermissionDeniedError("Bạn không được cấp vai trò này.", field="role")
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(f"Tên đăng nhập '{username}' đã tồn tại.", field="username", code="duplicate")
    if actor is not None:  # a person creating an account (not the setup commands): critical, R-SEC-04
        require_step_up()
    initial = password or generate_initial_password()
    user = User(
        username=username,
        unit=unit,
        role=role,
        email=email,
        must_change_password=True,
        password_changed_at=timezone.now(),
    )
    full_name = nfc(full_name)
    if full_name:
        parts = full_name.rsplit(" ", 1)
        user.last_name, user.first_name = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
    user.set_password(initial)
    user.save()
    _record_password(user)
    log_event(
        actor=actor,
        action="account.create",
        object_type="account",
        object_id=user.pk,
        scope_path=unit.path if unit else "",
        changes={
            "username": [None, username],
            "role": [None, role],
            "unit": [None, getattr(unit, "code", None)],
        },
    )
    return user, initial


@transaction.atomic
def account_change_password(*, user: User, new_password: str) -> User:
    """The account holder sets a new password: validated (R-SEC-03), kept in history, audited."""
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationFailed(
            [{"field": "new_password1", "message": m} for m in exc.messages],
            message=" ".join(exc.messages),
        ) from exc
    user = User.objects.select_for_update().get(pk=user.pk)
    user.set_password(new_password)
    user.must_change_password = False
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    _record_password(user)
    log_event(
        actor=user,
        action="account.password_change",
        object_type="account",
        object_id=user.pk,
        scope_path=user.unit.path if user.unit else "",
    )
    return user


@transaction.atomic
def account_reset_password(*, actor: Principal, account: User) -> str:
    """An admin issues a new one-time password; the holder must change it at next login."""
    _guard_manage(actor, account)
    _not_self(actor, account, "cấp lại mật khẩu cho")
    initial = generate_initial_password()
    account = User.objects.select_for_update().get(pk=account.pk)
    account.set_password(initial)
    account.must_change_password = True
    account.password_changed_at = timezone.now()
    account.session_generation += 1  # the old password's sessions end
    account.save(
        update_fields=["password", "must_change_password", "password_changed_at", "session_generation"]
    )
    _record_password(account)
    log_event(
        actor=actor,
        action="account.password_reset",
        object_type="account",
        object_id=account.pk,
        scope_path=account.unit.path if account.unit else "",
    )
    return initial


@transaction.atomic
def account_change_role(*, actor: Principal, account: User, role: str, reason: str = "") -> User:
    """Đổi vai trò: a critical action (R-SEC-04) that needs a recent second-factor check."""
    require(actor, "account.change_role")
    _guard_manage(actor, account)
    _not_self(actor, account, "đổi vai trò")
    if role not in Role.values:
        raise DomainError(f"Vai trò '{role}' không hợp lệ.", field="role")
    if role not in assignable_roles(actor):
        raise PermissionDeniedError("Bạn không được cấp vai trò này.", field="role")
    require_step_up()
    account = User.objects.select_for_update().get(pk=account.pk)
    before = account.role
    if before == role:
        raise DomainError("Tài khoản đã có vai trò này.", field="role")
    account.role = role
    account.session_generation += 1  # new rights take effect from a fresh login
    account.save(update_fields=["role", "session_generation"])
    log_event(
        actor=actor,
        action="account.change_role",
        object_type="account",
        object_id=account.pk,
        scope_path=account.unit.path if account.unit else "",
        changes={"role": [before, role]},
        reason=nfc(reason),
    )
    return account


@transaction.atomic
def account_set_active(*, actor: Principal, account: User, active: bool, reason: str = "") -> User:
    """Vô hiệu hóa / kích hoạt lại. Accounts are never deleted: the audit log points at them."""
    _guard_manage(actor, account)
    _not_self(actor, account, "vô hiệu hóa" if not active else "kích hoạt")
    account = User.objects.select_for_update().get(pk=account.pk)
    if account.is_active == active:
        raise DomainError("Tài khoản đã ở trạng thái này.", field="is_active")
    account.is_active = active
    account.session_generation += 1
    account.save(update_fields=["is_active", "session_generation"])
    log_event(
        actor=actor,
        action="account.reactivate" if active else "account.deactivate",
        object_type="account",
        object_id=account.pk,
        scope_path=account.unit.path if account.unit else "",
        changes={"is_active": [not active, active]},
        reason=nfc(reason),
    )
    return account


@transaction.atomic
def account_unlock(*, actor: Principal, account: User) -> int:
    """Mở khóa after repeated failures: clears the lockout records of this username (django-axes)."""
    from axes.models import AccessAttempt

    _guard_manage(actor, account)
    removed: int = AccessAttempt.objects.filter(username=account.username).delete()[0]
    log_event(
        actor=actor,
        action="account.unlock",
        object_type="account",
        object_id=account.pk,
        scope_path=account.unit.path if account.unit else "",
        changes={"failed_attempt_records": [removed, 0]},
    )
    return removed


@transaction.atomic
def ip_unlock(*, actor: Principal, ip_address: str) -> int:
    """Mở khóa địa chỉ IP (per-IP lockout, e.g. an office behind one address): system admins only."""
    from axes.models import AccessAttempt

    require(actor, "account.unlock_ip")
    removed: int = AccessAttempt.objects.filter(ip_address=ip_address).delete()[0]
    log_event(
        actor=actor,
        action="auth.ip_unlock",
        object_type="ip_address",
        object_id=ip_address[:64],
        changes={"failed_attempt_records": [removed, 0]},
    )
    return removed


@transaction.atomic
def account_reset_otp(*, actor: Principal, account: User, reason: str = "") -> None:
    """Đặt lại xác thực hai lớp: removes the account's devices; it enrols again at next login."""
    _guard_manage(actor, account)
    _not_self(actor, account, "đặt lại xác thực hai lớp cho")
    require_step_up()
    totp = TOTPDevice.objects.filter(user=account).delete()[0]
    static = StaticDevice.objects.filter(user=account).delete()[0]
    User.objects.filter(pk=account.pk).update(session_generation=account.session_generation + 1)
    log_event(
        actor=actor,
        action="account.otp_reset",
        object_type="account",
        object_id=account.pk,
        scope_path=account.unit.path if account.unit else "",
        changes={"devices_removed": [totp + static, 0]},
        reason=nfc(reason),
    )


@transaction.atomic
def account_logout_everywhere(*, user: User) -> None:
    """Đăng xuất mọi nơi: every session of the account stops being valid (R-SEC-07)."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    log_event(
        actor=user,
        action="auth.logout_everywhere",
        object_type="account",
        object_id=user.pk,
        scope_path=user.unit.path if user.unit else "",
    )


# --- authentication events (R-SEC-05) ------------------------------------------------------------


@transaction.atomic
def auth_record_login(*, user: User) -> None:
    log_event(
        actor=user,
        action="auth.login",
        object_type="account",
        object_id=user.pk,
        scope_path=user.unit.path if user.unit else "",
    )


@transaction.atomic
def auth_record_logout(*, user: User, cause: str = "user") -> None:
    """cause: "user" (đăng xuất) or "idle" (hết thời gian không hoạt động)."""
    log_event(
        actor=user,
        action="auth.logout" if cause == "user" else "auth.logout_idle",
        object_type="account",
        object_id=user.pk,
        scope_path=user.unit.path if user.unit else "",
    )


@transaction.atomic
def auth_record_login_failure(*, username: str, locked_out: bool, lock_started: bool) -> None:
    """A failed login has no actor: the username tried and the IP (from the request context) are kept."""
    known = User.objects.filter(username=username).select_related("unit").first()
    scope = known.unit.path if known is not None and known.unit else ""
    log_event(
        actor=None,
        action="auth.login_failed",
        object_type="account",
        object_id=known.pk if known else "",
        scope_path=scope,
        changes={"username": [None, username[:150]], "locked_out": [None, locked_out]},
    )
    if lock_started:
        log_event(
            actor=None,
            action="auth.lockout",
            object_type="account",
            object_id=known.pk if known else "",
            scope_path=scope,
            changes={"username": [None, username[:150]]},
        )


# --- second factor (R-SEC-04) --------------------------------------------------------------------


@transaction.atomic
def otp_enrol_begin(*, user: User) -> TOTPDevice:
    """Start (or restart) TOTP enrolment: one unconfirmed device whose key is shown as a QR code."""
    existing = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if existing is not None:
        return existing
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise DomainError("Tài khoản đã đăng ký xác thực hai lớp.", code="already_enrolled")
    return TOTPDevice.objects.create(user=user, name="totp", confirmed=False)


ENROLMENT_DEVICE = "enrolment"  # a StaticDevice holding the admin-issued one-time enrolment code
ENROLMENT_CODE_HOURS = 72


def _unit_admins_of(account: User) -> list[User]:
    """The active unit admins of the account's unit and of every unit above it (who manage the account)."""
    if account.unit is None:
        return []
    ids = [int(part) for part in account.unit.path.strip("/").split("/") if part.isdigit()]
    return list(
        User.objects.filter(role=Role.UNIT_ADMIN, is_active=True, unit_id__in=ids).exclude(pk=account.pk)
    )


def _notify_security(account: User, subject: str, body: str) -> None:
    """E-mail the account holder and its unit admins (after commit) about a change to its second factor."""
    to = sorted({u.email for u in [account, *_unit_admins_of(account)] if u.email})
    if not to:
        return

    def send() -> None:

        send_mail(f"[mchis] {subject}", body, None, to, fail_silently=True)

    transaction.on_commit(send)


@transaction.atomic
def account_issue_enrolment_code(*, actor: Principal | None, account: User) -> str:
    """Cấp mã đăng ký xác thực hai lớp: a one-time code, valid ENROLMENT_CODE_HOURS, handed to the person by
    its admin. Enrolling (or re-enrolling after a reset) needs it, so a stolen password alone cannot enrol
    an authenticator (R-SEC-04, issue 10 item 3). A new code replaces any earlier one. Shown once."""
    _guard_manage(actor, account)
    _not_self(actor, account, "cấp mã đăng ký xác thực cho")
    StaticDevice.objects.filter(user=account, name=ENROLMENT_DEVICE).delete()
    gate = StaticDevice.objects.create(user=account, name=ENROLMENT_DEVICE, confirmed=False)
    code: str = StaticToken.random_token()
    StaticToken.objects.create(device=gate, token=code)
    log_event(
        actor=actor,
        action="account.otp_enrol_code",
        object_type="account",
        object_id=account.pk,
        scope_path=account.unit.path if account.unit else "",
        changes={"valid_hours": [None, ENROLMENT_CODE_HOURS]},
    )
    _notify_security(
        account,
        "Mã đăng ký xác thực hai lớp đã được cấp",
        f"Quản trị đã cấp mã đăng ký xác thực hai lớp cho tài khoản {account.username}. Nếu bạn không yêu cầu, "
        "hãy báo ngay cho quản trị đơn vị.",
    )
    return code


def _enrolment_code_ok(user: User, enrolment_code: str) -> bool:
    gate = StaticDevice.objects.filter(user=user, name=ENROLMENT_DEVICE).first()
    if gate is None:
        return False
    issued = getattr(gate, "created_at", None)
    if issued is not None and issued < timezone.now() - timedelta(hours=ENROLMENT_CODE_HOURS):
        return False
    code = (enrolment_code or "").strip().replace(" ", "").lower()
    return bool(code) and gate.token_set.filter(token=code).exists()


def otp_enrol_confirm(*, user: User, code: str, password: str, enrolment_code: str) -> list[str]:
    """Confirm enrolment with a first code; returns 10 one-time recovery codes, shown once.

    Step-up must prove the person, not the password (R-SEC-04, issue 10 item 3): enrolling needs the password
    again and the one-time code its admin issued (`account_issue_enrolment_code`); the holder and its unit
    admins are told by e-mail, and the enrolment code is spent."""
    if not user.check_password(password or ""):
        with transaction.atomic():
            log_event(actor=user, action="auth.otp_enrol_failed", object_type="account", object_id=user.pk,
                      scope_path=user.unit.path if user.unit else "", changes={"password": [None, "sai"]})  # fmt: skip
        raise DomainError("Mật khẩu không đúng.", field="password", code="password_invalid")
    if not _enrolment_code_ok(user, enrolment_code):
        with transaction.atomic():
            log_event(actor=user, action="auth.otp_enrol_failed", object_type="account", object_id=user.pk,
                      scope_path=user.unit.path if user.unit else "", changes={"enrolment_code": [None, "sai"]})  # fmt: skip
        raise DomainError(
            "Mã đăng ký không đúng hoặc đã hết hạn: hãy nhờ quản trị đơn vị cấp mã đăng ký xác thực hai lớp.",
            field="enrolment_code",
            code="enrolment_code_invalid",
        )
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None:
            raise DomainError("Chưa bắt đầu đăng ký xác thực hai lớp.", field="code")
        verified = device.verify_token(code.strip())  # a failure is throttled: keep it committed
    if not verified:
        raise DomainError("Mã xác thực không đúng hoặc đã hết hạn.", field="code", code="otp_invalid")
    return _otp_enrol_finish(user=user, device=device)


@transaction.atomic
def _otp_enrol_finish(*, user: User, device: TOTPDevice) -> list[str]:
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=user).delete()  # the spent enrolment code and any old recovery codes
    static = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=c) for c in codes])
    log_event(
        actor=user,
        action="account.otp_enrol",
        object_type="account",
        object_id=user.pk,
        scope_path=user.unit.path if user.unit else "",
        changes={"recovery_codes": [None, len(codes)]},
    )
    _notify_security(
        user,
        "Đã đăng ký xác thực hai lớp",
        f"Một ứng dụng xác thực vừa được đăng ký cho tài khoản {user.username}. Nếu không phải bạn, hãy báo ngay "
        "cho quản trị đơn vị để đặt lại xác thực hai lớp.",
    )
    return codes


def otp_check(*, user: User, code: str, purpose: str) -> Any:
    """Verify a TOTP or recovery code (a recovery code works once). Returns the device or raises.

    purpose: "login" (xác thực khi đăng nhập) or "step_up" (xác thực lại trước thao tác quan trọng).
    Not one transaction on purpose: a failure must still commit its audit row and django-otp's throttling.
    """
    code = code.strip().replace(" ", "")
    device: Any = None
    with transaction.atomic():
        if code:
            for candidate in (
                *TOTPDevice.objects.filter(user=user, confirmed=True),
                *StaticDevice.objects.filter(user=user, confirmed=True),
            ):
                if candidate.verify_token(code):
                    device = candidate
                    break
        scope = user.unit.path if user.unit else ""
        log_event(
            actor=user,
            action=f"auth.otp_{purpose}" if device is not None else f"auth.otp_failed.{purpose}",
            object_type="account",
            object_id=user.pk,
            scope_path=scope,
            changes={"device": [None, _device_kind(device)]} if device is not None else {},
        )
    if device is None:
        raise DomainError("Mã xác thực không đúng hoặc đã hết hạn.", field="code", code="otp_invalid")
    return device


def _device_kind(device: Any) -> str:
    return "recovery" if isinstance(device, StaticDevice) else "totp"


# --- machine clients (R-SEC-02, issue item 8) ----------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def split_token(token: str) -> tuple[str, str]:
    """(prefix used for lookup, full token) — the prefix is the first characters after the mark."""
    body = token[len(TOKEN_MARK) :] if token.startswith(TOKEN_MARK) else token
    return body[:TOKEN_PREFIX_LENGTH], token


@transaction.atomic
def api_client_create(
    *, actor: Principal | None, name: str, unit: Any, scopes: list[str], days: int = 365
) -> tuple[ApiClient, str]:
    """Issue a token for an integration: returns (client, token). The token is never stored, only its hash."""
    if actor is not None:
        require(actor, "token.manage")
        if not within(actor, unit.path):
            raise PermissionDeniedError("Đơn vị nằm ngoài phạm vi quản lý của bạn.", field="unit")
    name = nfc(name)
    if not name:
        raise DomainError("Vui lòng nhập tên máy khách.", field="name")
    if ApiClient.objects.filter(name=name).exists():
        raise DomainError(f"Máy khách '{name}' đã tồn tại.", field="name", code="duplicate")
    unknown = sorted(set(scopes) - set(MATRIX))
    if unknown:
        raise DomainError(f"Quyền không hợp lệ: {', '.join(unknown)}.", field="scopes")
    if not scopes:
        raise DomainError("Vui lòng chọn ít nhất một quyền.", field="scopes")
    personal = sorted(set(scopes) - MACHINE_ACTIONS)
    if personal:
        raise DomainError(
            f"Máy khách tích hợp không được giữ quyền của người dùng: {', '.join(personal)} (R-SEC-02).",
            field="scopes",
            code="person_required",
        )
    if not 1 <= days <= 3650:
        raise DomainError("Thời hạn phải từ 1 đến 3650 ngày.", field="days")
    token = TOKEN_MARK + secrets.token_urlsafe(32)  # 32 random bytes
    prefix, _ = split_token(token)
    client = ApiClient.objects.create(
        name=name,
        unit=unit,
        scopes=sorted(set(scopes)),
        token_prefix=prefix,
        token_hash=hash_token(token),
        created_by=person_of(actor),
        expires_at=timezone.now() + timedelta(days=days),
    )
    log_event(
        actor=actor,
        action="token.create",
        object_type="api_client",
        object_id=client.pk,
        scope_path=unit.path,
        changes={
            "name": [None, name],
            "scopes": [None, client.scopes],
            "expires_at": [None, client.expires_at],
            "unit": [None, unit.code],
        },
    )
    return client, token


@transaction.atomic
def api_client_revoke(*, actor: Principal | None, client: ApiClient, reason: str = "") -> ApiClient:
    if actor is not None:
        require(actor, "token.manage")
        if not within(actor, client.unit.path):
            raise PermissionDeniedError("Đơn vị nằm ngoài phạm vi quản lý của bạn.")
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if not client.can_revoke():
        raise DomainError("Mã truy cập đã bị thu hồi.", code="already_revoked")
    client.revoked_at = timezone.now()
    client.save(update_fields=["revoked_at"])
    log_event(
        actor=actor,
        action="token.revoke",
        object_type="api_client",
        object_id=client.pk,
        scope_path=client.unit.path,
        changes={"revoked_at": [None, client.revoked_at]},
        reason=nfc(reason),
    )
    return client


@transaction.atomic
def api_client_record_call(*, principal: ClientPrincipal, method: str, path: str, status: int) -> None:
    """Every call by a machine client is audited with its name (client.call)."""
    ApiClient.objects.filter(pk=principal.client_id).update(last_used_at=timezone.now())
    log_event(
        actor=principal,
        action="client.call",
        object_type="api_client",
        object_id=principal.client_id,
        scope_path=principal.unit.path if principal.unit else "",
        changes={"method": [None, method], "path": [None, path[:500]], "status": [None, status]},
    )


@transaction.atomic
def api_client_set_signing_keys(*, actor: Principal | None, client: ApiClient, jwks: Any) -> ApiClient:
    """Register the public keys a client signs its submissions with (replaces the previous set: to rotate
    without downtime, send the old and the new key together, then the new one alone)."""
    from mchis.core.jws import ALG

    if actor is not None:
        require(actor, "token.manage")
        if not within(actor, client.unit.path):
            raise PermissionDeniedError("Máy khách nằm ngoài phạm vi quản lý của bạn.")
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not keys:
        raise DomainError('Bộ khóa phải là JWKS: {"keys": [...]} với ít nhất một khóa.', field="jwks")
    kids: list[str] = []
    for number, key in enumerate(keys, start=1):
        if not isinstance(key, dict) or key.get("kty") != "OKP" or key.get("crv") != ALG or not key.get("x"):
            raise DomainError(f"Khóa thứ {number}: chỉ nhận khóa công khai Ed25519 (kty OKP).", field="jwks")
        if "d" in key:
            raise DomainError(
                f"Khóa thứ {number} chứa khóa bí mật: chỉ gửi khóa công khai.",
                field="jwks",
                code="private_key",
            )
        if not key.get("kid") or key["kid"] in kids:
            raise DomainError(f"Khóa thứ {number}: thiếu hoặc trùng mã khóa (kid).", field="jwks")
        kids.append(str(key["kid"]))
    with transaction.atomic():
        before = sorted(k.get("kid", "") for k in (client.signing_jwks or {}).get("keys", []))
        client.signing_jwks = {"keys": [{k: v for k, v in key.items() if k != "d"} for key in keys]}
        client.save(update_fields=["signing_jwks"])
        log_event(
            actor=actor,
            action="token.signing_keys",
            object_type="api_client",
            object_id=client.pk,
            scope_path=client.unit.path,
            changes={"kid": [before, sorted(kids)]},
        )
    return client


@transaction.atomic
def api_client_record_signature_refused(
    *, client_id: int, code: str, method: str, path: str, kid: str = ""
) -> None:
    """A submission whose signature is missing or wrong: refused (401) and logged."""
    client = ApiClient.objects.filter(pk=client_id).select_related("unit").first()
    log_event(
        actor=None,
        action="client.signature_refused",
        object_type="api_client",
        object_id=client_id,
        scope_path=client.unit.path if client else "",
        changes={
            "reason": [None, code],
            "method": [None, method],
            "path": [None, path[:500]],
            "kid": [None, kid],
        },
    )


@transaction.atomic
def api_client_record_rejected(*, prefix: str, reason: str, method: str, path: str) -> None:
    """A call with an unknown, expired or revoked token: refused (401) and logged."""
    client = ApiClient.objects.filter(token_prefix=prefix).select_related("unit").first() if prefix else None
    log_event(
        actor=None,
        action="client.rejected",
        object_type="api_client",
        object_id=client.pk if client else "",
        scope_path=client.unit.path if client else "",
        changes={
            "reason": [None, reason],
            "method": [None, method],
            "path": [None, path[:500]],
            "token_prefix": [None, prefix],
        },
    )


@transaction.atomic
def security_record_csrf_rejection(
    *, principal: Principal | None, method: str, path: str, reason: str
) -> None:
    """A request refused for a missing or forged CSRF token (R-SEC-07): logged, with whoever was signed in."""
    person = principal if isinstance(principal, User) else None
    log_event(
        actor=person,
        action="security.csrf_rejected",
        object_type="request",
        scope_path=person.unit.path if person is not None and person.unit else "",
        changes={"method": [None, method], "path": [None, path[:500]], "reason": [None, reason[:200]]},
    )


def settings_roles_requiring_2fa() -> frozenset[str]:
    return frozenset(getattr(settings, "ROLES_REQUIRING_2FA", ()))


# --- security keys (WebAuthn / FIDO2, issue 21) --------------------------------------------------


def _key_scope(user: Any) -> str:
    return user.unit.path if getattr(user, "unit", None) is not None else ""


def security_key_record_failure(
    *, user: User | None, purpose: str, code: str, origin: str, detail: str = ""
) -> None:
    """A refused ceremony (wrong origin, replayed or forged response, revoked or unknown key...): logged, in its
    own transaction (the request answers with an error)."""
    with transaction.atomic():
        log_event(
            actor=user,
            action=f"auth.security_key_failed.{purpose}",
            object_type="account",
            object_id=user.pk if user is not None else "",
            scope_path=_key_scope(user),
            changes={"code": [None, code], "origin": [None, origin], "detail": [None, detail]},
        )


@transaction.atomic
def security_key_record_added(*, user: User, key_id: int) -> None:
    from django_otp_webauthn.models import WebAuthnCredential

    key = WebAuthnCredential.objects.select_related("attestation").get(pk=key_id, user=user)
    attestation = getattr(key, "attestation", None)
    log_event(
        actor=user,
        action="account.security_key_add",
        object_type="account",
        object_id=user.pk,
        scope_path=_key_scope(user),
        changes={
            "key": [None, key.pk],
            "aaguid": [None, key.aaguid],
            "attestation": [None, attestation.fmt if attestation else "none"],
        },
    )
    _notify_security(user, "Đã thêm khóa bảo mật", f"Tài khoản {user.username} vừa đăng ký khóa bảo mật mới.")


@transaction.atomic
def security_key_record_use(*, user: User, key: Any, purpose: str) -> None:
    log_event(
        actor=user,
        action=f"auth.security_key_{purpose}",
        object_type="account",
        object_id=user.pk,
        scope_path=_key_scope(user),
        changes={"key": [None, key.pk]},
    )


@transaction.atomic
def security_key_revoke(*, actor: Any, key: Any, reason: str = "") -> Any:
    """Thu hồi khóa bảo mật: by its owner, or by a unit admin who manages the owner. The key stays listed (history)
    and can no longer be used (django-otp: confirmed=False)."""
    from django_otp_webauthn.models import WebAuthnCredential

    owner = key.user
    if getattr(actor, "pk", None) != owner.pk:
        _guard_manage(actor, owner)
    locked = WebAuthnCredential.objects.select_for_update().get(pk=key.pk)
    if not locked.confirmed:
        raise Conflict("Khóa bảo mật này đã bị thu hồi.")
    locked.confirmed = False
    locked.save(update_fields=["confirmed"])
    log_event(
        actor=actor,
        action="account.security_key_revoke",
        object_type="account",
        object_id=owner.pk,
        scope_path=_key_scope(owner),
        changes={"key": [locked.pk, None], "by": [None, "owner" if actor.pk == owner.pk else "admin"]},
        reason=reason,
    )
    _notify_security(
        owner, "Đã thu hồi khóa bảo mật", f"Một khóa bảo mật của tài khoản {owner.username} vừa bị thu hồi."
    )
    return locked
