"""Security keys and passkeys (WebAuthn / FIDO2) as a second factor beside TOTP (issue 21).

Built on django-otp-webauthn (py_webauthn underneath): its credentials are django-otp devices, so a verified
key marks the session verified exactly like a TOTP code. What this module adds:
- the relying party (RP ID, name, allowed origins) from settings, or from the request's own host;
- the attestation policy: roles in SECURITY_KEY_ROLES may only register keys that prove their make
  (attestation other than "none", from a configured AAGUID list / attestation roots when set);
- views that audit every ceremony (success and refusal), refuse revoked keys, and turn a successful key check
  into a step-up made "with a security key" (the only kind such roles may use for critical actions).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django_otp_webauthn import exceptions as wa_exceptions
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)
from webauthn import verify_registration_response
from webauthn.helpers import (
    base64url_to_bytes,
    parse_attestation_object,
    parse_registration_credential_json,
)
from webauthn.helpers.structs import AttestationConveyancePreference, AttestationFormat

from mchis.core.stepup import SECURITY_KEY, has_recent_step_up


def security_key_roles() -> frozenset[str]:
    return frozenset(getattr(settings, "SECURITY_KEY_ROLES", []) or [])


def requires_security_key(user: Any) -> bool:
    return getattr(user, "role", None) in security_key_roles()


def rp_id(request: HttpRequest) -> str:
    return str(getattr(settings, "WEBAUTHN_RP_ID", "") or request.get_host().rsplit(":", 1)[0])


def rp_name(request: HttpRequest) -> str:
    return str(getattr(settings, "WEBAUTHN_RP_NAME", "") or "mchis")


class AttestationRefused(wa_exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_code = "attestation_refused"
    default_detail = "Khóa bảo mật này không được chấp nhận cho vai trò của bạn."


class StepUpNeeded(wa_exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_code = "step_up_required"
    default_detail = "Vui lòng xác thực lại (mã OTP hoặc khóa bảo mật) trước khi thêm khóa bảo mật."


class Helper(WebAuthnHelper):
    def get_allowed_origins(self) -> list[str]:
        configured = list(getattr(settings, "WEBAUTHN_ALLOWED_ORIGINS", []) or [])
        if configured:
            return configured
        # Our own origin as the browser sees it (Host is checked against ALLOWED_HOSTS): a page on another
        # origin - a phishing copy, a relaying proxy - signs its own origin into clientDataJSON and is refused.
        return [f"{self.request.scheme}://{self.request.get_host()}"]

    def get_attestation_conveyance_preference(self) -> AttestationConveyancePreference:
        wanted = str(getattr(settings, "WEBAUTHN_ATTESTATION", "direct") or "none")
        return AttestationConveyancePreference(wanted)

    def register_complete(self, user: Any, state: dict, data: dict) -> Any:
        """As the library's, plus the attestation roots of the policy (FIDO-certified makes only)."""
        credential = parse_registration_credential_json(data)
        kwargs: dict[str, Any] = {}
        algorithms = self.get_supported_key_algorithms()
        if algorithms:
            kwargs["supported_pub_key_algs"] = algorithms
        roots = [Path(p).read_bytes() for p in getattr(settings, "WEBAUTHN_ATTESTATION_ROOTS", []) or []]
        if roots:
            kwargs["pem_root_certs_bytes_by_fmt"] = {
                AttestationFormat.PACKED: roots,
                AttestationFormat.FIDO_U2F: roots,
                AttestationFormat.TPM: roots,
            }
        response = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(state["challenge"]),
            expected_rp_id=self.get_relying_party_domain(),
            expected_origin=self.get_allowed_origins(),
            require_user_verification=state["require_user_verification"],
            **kwargs,
        )
        statement = parse_attestation_object(response.attestation_object).att_stmt
        check_attestation_policy(
            user,
            fmt=str(getattr(response.fmt, "value", response.fmt)),
            aaguid=str(response.aaguid),
            has_chain=bool(statement.x5c),
        )
        device = self.create_credential(user, response, credential, data)
        device.name = f"Khóa bảo mật {device.aaguid[:8] if device.aaguid else ''}".strip()
        device.save()
        self.create_attestation(device, response.attestation_object, credential.response.client_data_json)
        return device


def check_attestation_policy(user: Any, *, fmt: str, aaguid: str, has_chain: bool) -> None:
    """Roles that must use a hardware key for critical actions may only register keys that prove their make:
    an attestation signed by the maker's certificate (not "none", not self-signed by the new key itself)."""
    if not requires_security_key(user):
        return
    if fmt == "none" or not has_chain:
        raise AttestationRefused(
            detail="Vai trò của bạn chỉ dùng khóa bảo mật phần cứng có chứng thực của nhà sản xuất "
            "(FIDO2/U2F); khóa này không cung cấp chứng thực."
        )
    allowed = {a.lower() for a in getattr(settings, "WEBAUTHN_ALLOWED_AAGUIDS", []) or []}
    if allowed and aaguid.lower() not in allowed:
        raise AttestationRefused(
            detail=f"Loại khóa bảo mật này (AAGUID {aaguid}) không nằm trong danh sách được phép cho vai trò "
            "của bạn."
        )


# Vietnamese for the library's refusals (the person reads them in the page's status line).
_MESSAGES = {
    "invalid_state": "Phiên xác thực khóa bảo mật đã dùng hoặc đã hết hạn: bấm lại nút để thử lại.",
    "credential_disabled": "Khóa bảo mật này đã bị thu hồi.",
    "credential_not_found": "Khóa bảo mật không được đăng ký cho tài khoản này.",
    "credential_user_mismatch": "Khóa bảo mật không thuộc tài khoản đang đăng nhập.",
    "user_disabled": "Tài khoản đã bị khóa.",
    "not_authenticated": "Vui lòng đăng nhập bằng mật khẩu trước.",
    "user_not_verified": "Vui lòng xác thực hai lớp trước khi thêm khóa bảo mật.",
    "passwordless_login_disabled": "Vui lòng đăng nhập bằng mật khẩu trước.",
    "malformed_request": "Yêu cầu không hợp lệ.",
    "unprocessable_request": "Xác thực khóa bảo mật không thành công (sai nguồn gốc trang, chữ ký không hợp lệ "
    "hoặc phản hồi bị dùng lại).",
}


_FAILED = "Xác thực khóa bảo mật không thành công."


def _cause_message(cause: str) -> str:
    """py_webauthn's reason in words a person can act on."""
    text = cause.lower()
    if "origin" in text:
        return f"{_FAILED} Phản hồi được ký cho một trang khác (sai nguồn gốc trang): không dùng khóa trên trang giả mạo."
    if "rp id" in text or "rpid" in text:
        return f"{_FAILED} Khóa này được đăng ký cho một trang khác."
    if "challenge" in text:
        return f"{_FAILED} Phản hồi không khớp yêu cầu hiện tại (đã dùng lại hoặc đã hết hạn)."
    if "sign count" in text or "counter" in text:
        return f"{_FAILED} Bộ đếm của khóa không tăng: có thể khóa đã bị sao chép."
    if "signature" in text:
        return f"{_FAILED} Chữ ký của khóa không hợp lệ."
    return ""


class _Audited:
    """Every ceremony's refusal is a clear Vietnamese message and an audit row."""

    purpose = ""
    request: HttpRequest

    def handle_exception(self, exc: Exception) -> JsonResponse:
        from .services import security_key_record_failure

        if not isinstance(exc, wa_exceptions.OTPWebAuthnApiError):
            raise exc
        message = str(exc.detail) if exc.code in ("attestation_refused", "step_up_required") else None
        cause = str(exc.__cause__ or "")
        message = message or _cause_message(cause) or _MESSAGES.get(exc.code, _FAILED)
        user = getattr(self.request, "user", None)
        security_key_record_failure(
            user=user if user is not None and user.is_authenticated else None,
            purpose=self.purpose,
            code=exc.code,
            origin=_client_origin(self.request),
            detail=cause[:300],
        )
        return JsonResponse({"detail": message, "code": exc.code}, status=exc.status_code)


def _client_origin(request: HttpRequest) -> str:
    origin = request.headers.get("Origin", "")
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}"[:200] if parts.netloc else ""


class _FreshCheck:
    def _check_user_verified(self, user: Any) -> None:
        # Stricter than the library's "session verified once": adding a second factor is itself a security
        # change, so a fresh check in the step-up window (any method: the first key comes after a code).
        if not has_recent_step_up(any_method=True):
            raise StepUpNeeded()


class BeginRegistration(_Audited, _FreshCheck, BeginCredentialRegistrationView):
    purpose = "register"


class CompleteRegistration(_Audited, _FreshCheck, CompleteCredentialRegistrationView):
    purpose = "register"

    def post(self, *args: Any, **kwargs: Any) -> JsonResponse:
        from .services import security_key_record_added

        response = super().post(*args, **kwargs)
        security_key_record_added(user=self.request.user, key_id=int(_json(response)["id"]))  # type: ignore[arg-type]
        return response


class BeginAuthentication(_Audited, BeginCredentialAuthenticationView):
    purpose = "verify"


class CompleteAuthentication(_Audited, CompleteCredentialAuthenticationView):
    purpose = "verify"

    def complete_auth(self, device: Any) -> Any:
        from django_otp import login as otp_login

        from .middleware import mark_step_up
        from .services import security_key_record_use

        was_verified = self.request.user.is_verified()  # type: ignore[union-attr]
        otp_login(self.request, device)
        # a key check is a fresh second factor: it opens the step-up window, "with a security key"
        mark_step_up(self.request, method=SECURITY_KEY)
        security_key_record_use(user=device.user, key=device, purpose="step_up" if was_verified else "login")
        return device.user


def _json(response: JsonResponse) -> dict[str, Any]:
    import json

    return dict(json.loads(response.content))
