"""Detached JWS with Ed25519: the implementation is `mchis.core.jws` (shared with the inbound checks)."""

from mchis.core.jws import (
    ALG,
    HEADER,
    MAX_SKEW_SECONDS,
    SignatureRejected,
    Verified,
    generate_private_jwk,
    header_of,
    public_jwk,
    sign_detached,
    verify_detached,
)

__all__ = [
    "ALG",
    "HEADER",
    "MAX_SKEW_SECONDS",
    "SignatureRejected",
    "Verified",
    "generate_private_jwk",
    "header_of",
    "public_jwk",
    "sign_detached",
    "verify_detached",
]
