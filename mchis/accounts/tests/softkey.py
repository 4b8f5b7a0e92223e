"""A software FIDO2 authenticator for tests: makes registration and assertion responses exactly as a browser
would send them (clientDataJSON, CBOR attestation object, ECDSA P-256 signatures), with attestation "none",
"packed" self-attestation or "packed" with a maker certificate chain."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _maker_certificate(key: ec.EllipticCurvePrivateKey) -> tuple[bytes, bytes]:
    """A maker's attestation certificate (DER) issued by a test root (PEM returned for policy roots)."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test FIDO Maker Root")])
    root = (
        x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
        .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(root_key, hashes.SHA256())
    )  # fmt: skip
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Maker"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Authenticator Attestation"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Test Key Batch"),
    ])  # fmt: skip
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(root_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(root_key, hashes.SHA256())
    )  # fmt: skip
    return cert.public_bytes(serialization.Encoding.DER), root.public_bytes(serialization.Encoding.PEM)


class SoftKey:
    def __init__(self, *, origin: str = "http://testserver", attestation: str = "none",
                 aaguid: bytes = bytes(range(16))) -> None:  # fmt: skip
        self.origin = origin
        self.attestation = attestation  # "none" | "self" | "maker"
        self.aaguid = aaguid
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.count = 0
        self.maker_root_pem = b""

    @property
    def aaguid_text(self) -> str:
        h = self.aaguid.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _cose(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        )

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        ).encode()

    def _sign(self, key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
        return key.sign(data, ec.ECDSA(hashes.SHA256()))

    def register(self, options: dict[str, Any], *, origin: str | None = None) -> dict[str, Any]:
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        rp_hash = hashlib.sha256(options["rp"]["id"].encode()).digest()
        auth_data = (
            rp_hash + bytes([0x45]) + self.count.to_bytes(4, "big") + self.aaguid
            + len(self.credential_id).to_bytes(2, "big") + self.credential_id + self._cose()
        )  # fmt: skip
        signed = auth_data + hashlib.sha256(client_data).digest()
        if self.attestation == "none":
            fmt, statement = "none", {}
        elif self.attestation == "self":
            fmt, statement = "packed", {"alg": -7, "sig": self._sign(self.key, signed)}
        else:
            maker_key = ec.generate_private_key(ec.SECP256R1())
            cert, self.maker_root_pem = _maker_certificate(maker_key)
            fmt, statement = "packed", {"alg": -7, "sig": self._sign(maker_key, signed), "x5c": [cert]}
        attestation_object = cbor2.dumps({"fmt": fmt, "attStmt": statement, "authData": auth_data})
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation_object),
                "transports": ["usb"],
            },
            "clientExtensionResults": {},
        }

    def assertion(self, options: dict[str, Any], *, origin: str | None = None) -> dict[str, Any]:
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        self.count += 1
        auth_data = (
            hashlib.sha256(options["rpId"].encode()).digest() + bytes([0x05]) + self.count.to_bytes(4, "big")
        )
        signature = self._sign(self.key, auth_data + hashlib.sha256(client_data).digest())
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64url(auth_data),
                "clientDataJSON": b64url(client_data),
                "signature": b64url(signature),
            },
            "clientExtensionResults": {},
        }
