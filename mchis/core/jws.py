"""Detached JWS (RFC 7515 appendix F) with Ed25519 (RFC 8037, alg "Ed25519" of RFC 9864), via joserfc.

No Django here: the receivers (separate processes) import this module too. It lives in core because both
directions use it: outbound exchanges sign with it (integrations.exchange), inbound HIS submissions are
verified with it (accounts.signatures, ADR 0070).

The signature travels in the `X-Signature` header as `<protected>..<signature>`; the body is the payload.
The protected header binds the key (`kid`), the audience (`aud`, the partner's name), the time (`iat`, UNIX
seconds; the verifier allows a bounded clock skew) and the idempotency key (`jti`), so a body replayed to
another partner, much later, or with another key is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

ALG = "Ed25519"
HEADER = "X-Signature"
MAX_SKEW_SECONDS = 300
_REGISTRY = JWSRegistry(
    header_registry={
        "iat": HeaderParameter("Issued at (UNIX seconds)", "int", required=True),
        "aud": HeaderParameter("Receiving partner", "str", required=True),
        "jti": HeaderParameter("Idempotency key of the request", "str"),
    },
    algorithms=[ALG],
)


class SignatureRejected(Exception):
    """Why a receiver refuses a request: missing_signature, malformed_signature, unknown_key, bad_signature,
    wrong_audience, clock_skew."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


@dataclass(frozen=True)
class Verified:
    kid: str
    iat: int
    jti: str


def generate_private_jwk(kid: str) -> dict[str, Any]:
    return OKPKey.generate_key("Ed25519", parameters={"kid": kid}, private=True).as_dict(private=True)


def public_jwk(private_jwk: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in private_jwk.items() if k != "d"}


def sign_detached(
    body: bytes, *, private_jwk: dict[str, Any], audience: str, jti: str = "", now: float | None = None
) -> str:
    header: dict[str, Any] = {
        "alg": ALG,
        "kid": private_jwk["kid"],
        "iat": int(now if now is not None else time.time()),
        "aud": audience,
    }
    if jti:
        header["jti"] = jti
    key = OKPKey.import_key(private_jwk)
    compact = jws.serialize_compact(header, body, key, algorithms=[ALG], registry=_REGISTRY)
    return jws.detach_content(compact)


def header_of(value: str) -> dict[str, Any]:
    """The protected header, unverified (to pick the key by kid)."""
    try:
        protected, _, _ = value.split(".")
        header = json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise SignatureRejected("malformed_signature", "chữ ký không đọc được") from exc
    if not isinstance(header, dict):
        raise SignatureRejected("malformed_signature", "chữ ký không đọc được")
    return header


def verify_detached(
    value: str | None,
    body: bytes,
    *,
    jwks: dict[str, Any],
    audience: str,
    now: float | None = None,
    max_skew: int = MAX_SKEW_SECONDS,
) -> Verified:
    """Check a detached signature over `body` against the sender's public keys. Raises SignatureRejected."""
    if not value:
        raise SignatureRejected("missing_signature", "thiếu chữ ký")
    header = header_of(value)
    kid = str(header.get("kid", ""))
    keys = [k for k in jwks.get("keys", []) if k.get("kid") == kid]
    if not keys:
        raise SignatureRejected("unknown_key", f"khóa không xác định: {kid!r}")
    try:
        verified = jws.deserialize_compact(
            value, KeySet.import_key_set({"keys": keys}), payload=body, algorithms=[ALG], registry=_REGISTRY
        )
    except (JoseError, ValueError) as exc:
        raise SignatureRejected("bad_signature", "chữ ký không khớp với nội dung") from exc
    protected = verified.protected
    if protected.get("aud") != audience:
        raise SignatureRejected("wrong_audience", f"chữ ký dành cho {protected.get('aud')!r}")
    current = now if now is not None else time.time()
    if abs(current - int(protected["iat"])) > max_skew:
        raise SignatureRejected("clock_skew", "thời điểm ký lệch quá giới hạn")
    return Verified(kid=kid, iat=int(protected["iat"]), jti=str(protected.get("jti", "")))
