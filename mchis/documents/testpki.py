"""A throw-away PKI for tests and the demo: root CA, signer certificates (valid, expired, revoked + CRL),
a certificate from an unknown CA, and a local RFC 3161 timestamp authority served over loopback HTTP.

Nothing here reaches the network; every key is generated on the spot (RSA, as the local TSA signs with RSA).
Production never imports this module: it configures real certificates (docs/signatures.md).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PASSPHRASE = b"mat-khau-thu-nghiem"
CRL_URL = "http://127.0.0.1:9/mchis-test-root.crl"  # discard port: nothing listens


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(cn: str, org: str = "Bộ Y tế (thử nghiệm)", unit: str = "") -> x509.Name:
    parts = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
    ]
    if unit:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    parts.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(parts)


@dataclass
class Issued:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def pkcs12(self, chain: list[x509.Certificate], passphrase: bytes = PASSPHRASE) -> bytes:
        return pkcs12.serialize_key_and_certificates(
            b"signer", self.key, self.cert, chain, serialization.BestAvailableEncryption(passphrase)
        )


def _ca(cn: str, now: datetime) -> Issued:
    key = _key()
    name = _name(cn)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=365))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return Issued(cert, key)


def _issue(
    ca: Issued,
    cn: str,
    *,
    unit: str = "",
    not_before: datetime,
    not_after: datetime,
    tsa: bool = False,
) -> Issued:
    key = _key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn, unit=unit))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=not tsa, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
    )  # fmt: skip
    # Like a public CA's certificates: where the CRL is published (never fetched in tests: fetching is off and
    # the CRL is configured or embedded), so verifiers must check revocation.
    builder = builder.add_extension(
        x509.CRLDistributionPoints(
            [x509.DistributionPoint([x509.UniformResourceIdentifier(CRL_URL)], None, None, None)]
        ),
        critical=False,
    )
    if tsa:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


@dataclass
class TestPKI:
    root: Issued
    valid: Issued
    expired: Issued
    revoked: Issued
    tsa: Issued
    stranger_root: Issued
    stranger: Issued
    crl: x509.CertificateRevocationList
    unit_code: str
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def crl_der(self) -> bytes:
        return self.crl.public_bytes(serialization.Encoding.DER)

    def write(self, directory: Path) -> dict[str, Path]:
        """Files as an administrator would install them: the root and CRL for verification, one PKCS#12 per
        signing unit (named `<unit code>.p12`) in the key directory."""
        directory.mkdir(parents=True, exist_ok=True)
        keys = directory / "keys"
        keys.mkdir(exist_ok=True)
        out = {
            "root": directory / "root.pem",
            "crl": directory / "root.crl",
            "tsa_cert": directory / "tsa.pem",
            "stranger_root": directory / "stranger-root.pem",
            "keys": keys,
        }
        out["root"].write_bytes(self.root.cert_pem)
        out["crl"].write_bytes(self.crl_der)
        out["tsa_cert"].write_bytes(self.tsa.cert_pem)
        out["stranger_root"].write_bytes(self.stranger_root.cert_pem)
        (keys / f"{self.unit_code}.p12").write_bytes(self.valid.pkcs12([self.root.cert]))
        self.files = out
        return out

    def pkcs12_for(self, which: str) -> bytes:
        issued: Issued = getattr(self, which)
        chain = [self.stranger_root.cert] if which == "stranger" else [self.root.cert]
        return issued.pkcs12(chain)


def build(unit_code: str = "TEST", unit_name: str = "Trạm Y tế xã Thử Nghiệm") -> TestPKI:
    """A fresh PKI; the valid signer's certificate names the unit (OU = unit code) like a unit certificate."""
    now = datetime.now(UTC)
    root = _ca("MCHIS Test Root CA", now)
    valid = _issue(root, unit_name, unit=unit_code, not_before=now - timedelta(days=30),
                   not_after=now + timedelta(days=365))  # fmt: skip
    expired = _issue(root, f"{unit_name} (hết hạn)", unit=unit_code, not_before=now - timedelta(days=400),
                     not_after=now - timedelta(days=35))  # fmt: skip
    revoked = _issue(root, f"{unit_name} (thu hồi)", unit=unit_code, not_before=now - timedelta(days=30),
                     not_after=now + timedelta(days=365))  # fmt: skip
    tsa = _issue(root, "MCHIS Test TSA", not_before=now - timedelta(days=30),
                 not_after=now + timedelta(days=365), tsa=True)  # fmt: skip
    stranger_root = _ca("Unknown Root CA", now)
    stranger = _issue(stranger_root, unit_name, unit=unit_code, not_before=now - timedelta(days=30),
                      not_after=now + timedelta(days=365))  # fmt: skip
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.cert.subject)
        .last_update(now - timedelta(hours=1))
        .next_update(now + timedelta(days=7))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(revoked.cert.serial_number)
            .revocation_date(now - timedelta(days=2))
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()), critical=False
        )
        .add_extension(x509.CRLNumber(1), critical=False)
        .sign(root.key, hashes.SHA256())
    )
    return TestPKI(root, valid, expired, revoked, tsa, stranger_root, stranger, crl, unit_code)


class LocalTSA:
    """An RFC 3161 timestamp authority on 127.0.0.1 (HTTP POST application/timestamp-query), for tests.

    The answers are made by pyHanko's in-process timestamper with the test TSA certificate, so signing goes
    through the same HTTP client code as with a real TSA.
    """

    def __init__(self, pki: TestPKI) -> None:
        from asn1crypto import keys as asn1_keys
        from asn1crypto import x509 as asn1_x509
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

        tsa_cert = asn1_x509.Certificate.load(pki.tsa.cert.public_bytes(serialization.Encoding.DER))
        tsa_key = asn1_keys.PrivateKeyInfo.load(
            pki.tsa.key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        root = asn1_x509.Certificate.load(pki.root.cert.public_bytes(serialization.Encoding.DER))
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        self._stamper = DummyTimeStamper(
            tsa_cert=tsa_cert, tsa_key=tsa_key, certs_to_embed=SimpleCertificateStore.from_certs([root])
        )
        self.requests = 0
        stamper, outer = self._stamper, self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                from asn1crypto import tsp

                length = int(self.headers.get("Content-Length", "0"))
                req = tsp.TimeStampReq.load(self.rfile.read(length))
                resp = asyncio.run(stamper.async_request_tsa_response(req))
                body = resp.dump()
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/tsa"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LocalTSA:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
