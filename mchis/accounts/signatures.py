"""Signed submissions from machine clients (R-INT-05, ADR 0070): a hospital system (HIS) signs the body of each
submission with a detached JWS (Ed25519) in `X-Signature`, like our outbound exchanges; we verify it against the
public keys registered for that client (`ApiClient.signing_jwks`) before anything is read or written.

A client with registered keys must always sign; INBOUND_SIGNATURE_REQUIRED (on in production) makes every
client sign. People working through the session are not concerned (their requests carry the CSRF check).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from mchis.core.errors import DomainError
from mchis.core.jws import HEADER, SignatureRejected, header_of, verify_detached

from .auth import ClientPrincipal
from .models import ApiClient
from .services import api_client_record_signature_refused

AUDIENCE_DEFAULT = "mchis"

MESSAGES = {
    "no_signing_key": "Máy khách chưa đăng ký khóa ký: dữ liệu gửi đến phải có chữ ký số (X-Signature, JWS Ed25519).",
    "missing_signature": "Thiếu chữ ký số: gửi chữ ký JWS tách rời (Ed25519) của nội dung trong tiêu đề "
    "X-Signature.",
    "malformed_signature": "Chữ ký số trong X-Signature không đọc được (cần dạng <header>..<chữ ký>).",
    "unknown_key": "Chữ ký dùng khóa chưa đăng ký cho máy khách này (kid không khớp).",
    "bad_signature": "Chữ ký số không khớp với nội dung gửi đến: dữ liệu đã bị thay đổi hoặc ký bằng khóa khác.",
    "wrong_audience": "Chữ ký được tạo cho nơi nhận khác (aud), không phải hệ thống này.",
    "clock_skew": "Thời điểm ký (iat) lệch quá 5 phút so với máy chủ: kiểm tra đồng hồ máy gửi.",
    "jti_mismatch": "Mã chống gửi lặp trong chữ ký (jti) khác tiêu đề Idempotency-Key.",
}


class SignatureRefused(DomainError):
    """401 with the reason's code (the sender can fix it: sign, use a registered key, fix its clock)."""

    status_code = 401
    code = "bad_signature"


def _refuse(request: HttpRequest, principal: ClientPrincipal, code: str, kid: str = "") -> SignatureRefused:
    api_client_record_signature_refused(
        client_id=principal.client_id, code=code, method=request.method or "", path=request.path, kid=kid
    )
    return SignatureRefused(MESSAGES[code], code=code, field=HEADER)


def verify_submission(request: HttpRequest, principal: Any, body: bytes) -> None:
    """Refuse (SignatureRefused, 401, audited) a machine client's submission that is not signed as required."""
    if not isinstance(principal, ClientPrincipal):
        return
    jwks = (
        ApiClient.objects.filter(pk=principal.client_id).values_list("signing_jwks", flat=True).first() or {}
    )
    if not jwks.get("keys"):
        if getattr(settings, "INBOUND_SIGNATURE_REQUIRED", True):
            raise _refuse(request, principal, "no_signing_key")
        return
    value = request.headers.get(HEADER)
    try:
        kid = str(header_of(value).get("kid", "")) if value else ""
    except SignatureRejected:
        kid = ""
    try:
        verified = verify_detached(
            value,
            body,
            jwks=jwks,
            audience=str(getattr(settings, "INBOUND_SIGNATURE_AUDIENCE", AUDIENCE_DEFAULT)),
        )
    except SignatureRejected as exc:
        raise _refuse(request, principal, exc.code if exc.code in MESSAGES else "bad_signature", kid) from exc
    idempotency_key = request.headers.get("Idempotency-Key", "")
    if verified.jti and idempotency_key and verified.jti != idempotency_key:
        raise _refuse(request, principal, "jti_mismatch", kid)
