"""PAdES signing and verification with pyHanko: no database here, only bytes, keys and certificates.

The key store is a setting (`DOCUMENT_SIGNING` in config/settings): a PKCS#12 file per signing unit held by
the server (`<unit code>.p12`, used only after the signer's step-up), or a PKCS#11 token (a USB token or an
HSM reachable from the server). Verification trusts the configured roots only; revocation comes from the
CRLs embedded in the document (PAdES-B-LT), the configured CRL files, and - when allowed - the CA's
CRL/OCSP servers.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from asn1crypto import crl as asn1_crl
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from django.conf import settings

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SIGNATURE_FIELD = "ChuKySo"
MAX_PDF_BYTES = 20 * 1024 * 1024


class SigningFailure(Exception):
    """The document could not be signed; `message` is for people (Vietnamese), `code` for machines."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class UnreadablePdf(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def config() -> dict[str, Any]:
    return dict(getattr(settings, "DOCUMENT_SIGNING", {}) or {})


def _load_certs(data: bytes) -> list[asn1_x509.Certificate]:
    if pem.detect(data):
        return [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
    return [asn1_x509.Certificate.load(data)]


def _load_crl(data: bytes) -> asn1_crl.CertificateList:
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return asn1_crl.CertificateList.load(data)


def trust_roots() -> list[asn1_x509.Certificate]:
    return [c for p in config().get("TRUST_ROOTS", []) for c in _load_certs(Path(p).read_bytes())]


def configured_crls() -> list[asn1_crl.CertificateList]:
    return [_load_crl(Path(p).read_bytes()) for p in config().get("CRLS", [])]


def validation_kwargs(*, for_signing: bool = False) -> dict[str, Any]:
    cfg = config()
    return {
        "trust_roots": trust_roots(),
        "other_certs": [c for p in cfg.get("EXTRA_CERTS", []) for c in _load_certs(Path(p).read_bytes())],
        "crls": configured_crls(),
        "allow_fetching": bool(cfg.get("ALLOW_FETCHING", False)),
        # Signing must prove the signer was not revoked (the proof is embedded: B-LT). Verifying, a certificate
        # that names a CRL/OCSP source must be checked against one (embedded, configured or fetched).
        "revocation_mode": "require" if for_signing else "hard-fail",
    }


def validation_context(*, for_signing: bool = False) -> Any:
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(**validation_kwargs(for_signing=for_signing))


# --- keys --------------------------------------------------------------------------------------------------


def key_store() -> str:
    return str(config().get("KEY_STORE", "") or "")


def has_unit_key(unit_code: str) -> bool:
    store = key_store()
    if store == "pkcs12":
        return (Path(config()["PKCS12_DIR"]) / f"{unit_code}.p12").is_file()
    return store == "pkcs11"


@contextmanager
def unit_signer(unit_code: str) -> Iterator[Any]:
    """The unit's pyHanko signer, open for the duration of one signature (a PKCS#11 session is closed after)."""
    store = key_store()
    if store == "pkcs12":
        yield _pkcs12_signer(unit_code)
    elif store == "pkcs11":
        with _pkcs11_signer(unit_code) as signer:
            yield signer
    else:
        raise SigningFailure(
            "Hệ thống chưa cấu hình khóa ký số (DOCUMENT_SIGNING).", "signing_not_configured"
        )


def _pkcs12_signer(unit_code: str) -> Any:
    from pyhanko.sign import signers

    cfg = config()
    directory = Path(cfg["PKCS12_DIR"])
    path = directory / f"{unit_code}.p12"
    if not path.is_file():
        raise SigningFailure(f"Đơn vị {unit_code} chưa có chứng thư số để ký.", "no_signing_key")
    pass_file = directory / f"{unit_code}.pass"
    passphrase = (
        pass_file.read_bytes().strip()
        if pass_file.is_file()
        else str(cfg.get("PKCS12_PASSPHRASE", "")).encode()
    )
    signer = signers.SimpleSigner.load_pkcs12(str(path), passphrase=passphrase or None)
    if signer is None:
        raise SigningFailure(
            f"Không mở được tệp khóa ký số của đơn vị {unit_code}.", "signing_key_unreadable"
        )
    return signer


@contextmanager
def _pkcs11_signer(unit_code: str) -> Iterator[Any]:
    from pyhanko.sign import pkcs11 as hanko_pkcs11

    cfg = config()
    label = str(cfg.get("PKCS11_KEY_LABEL", "{unit}")).format(unit=unit_code)
    try:
        criteria = hanko_pkcs11.TokenCriteria(label=cfg.get("PKCS11_TOKEN_LABEL") or None)
        session = hanko_pkcs11.open_pkcs11_session(
            cfg["PKCS11_MODULE"], token_criteria=criteria, user_pin=cfg.get("PKCS11_PIN") or None
        )
    except Exception as exc:
        raise SigningFailure(
            "Không kết nối được thiết bị ký số (USB token/HSM): kiểm tra thiết bị và mã PIN.",
            "token_unavailable",
        ) from exc
    try:
        yield hanko_pkcs11.PKCS11Signer(session, key_label=label, cert_label=label)
    finally:
        session.close()


def cert_summary(cert: asn1_x509.Certificate) -> dict[str, Any]:
    subject = cert.subject.native
    return {
        "common_name": subject.get("common_name", ""),
        "organization": subject.get("organization_name", ""),
        "organizational_unit": subject.get("organizational_unit_name", ""),
        "issuer": cert.issuer.native.get("common_name", ""),
        "serial": format(cert.serial_number, "x"),
        "fingerprint": hashlib.sha256(cert.dump()).hexdigest(),
        "not_before": cert["tbs_certificate"]["validity"]["not_before"].native,
        "not_after": cert["tbs_certificate"]["validity"]["not_after"].native,
    }


# --- signing -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stamp:
    signer_name: str
    unit_name: str
    at: datetime
    reason: str


# Vietnamese letters in the stamp need an embedded TrueType font. pyHanko writes glyph widths in font units
# as if every font had 1000 units per em, so the configured font is subset (Latin + Vietnamese) and rescaled
# to 1000 once, and kept beside the temporary files.
_STAMP_CODEPOINTS = [
    *range(0x20, 0x250),
    *range(0x300, 0x370),
    *range(0x1EA0, 0x1F00),
    *range(0x2000, 0x2070),
]


def stamp_font() -> str:
    source = Path(str(config().get("FONT") or "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
    tag = hashlib.sha256(f"{source}:{source.stat().st_mtime_ns}:v1".encode()).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"mchis-stamp-font-{tag}.ttf"
    if not target.exists():
        from fontTools import subset
        from fontTools.ttLib import TTFont
        from fontTools.ttLib.scaleUpem import scale_upem

        font = TTFont(str(source))
        options = subset.Options()
        options.layout_features = ["*"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=_STAMP_CODEPOINTS)
        subsetter.subset(font)
        if font["head"].unitsPerEm != 1000:
            scale_upem(font, 1000)
        partial = target.with_suffix(f".{os.getpid()}.part")
        font.save(str(partial))
        partial.replace(target)  # atomic: concurrent workers write the same bytes
    return str(target)


def _stamp_style() -> Any:
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    return TextStampStyle(
        stamp_text="Ký số bởi: %(nguoi_ky)s\nĐơn vị: %(don_vi)s\nThời gian: %(thoi_gian)s\n%(ly_do)s",
        text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(stamp_font()), font_size=9),
        border_width=1,
    )


def sign_pdf(pdf: bytes, *, unit_code: str, stamp: Stamp) -> tuple[bytes, dict[str, Any]]:
    """A PAdES signature (B-LT: chain and revocation data embedded; B-T with a timestamp when a TSA is
    configured) with a visible stamp on the last page. Returns the signed bytes and the certificate summary."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError

    cfg = config()
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    last_page = int(writer.root["/Pages"]["/Count"]) - 1
    timestamper = None
    if cfg.get("TSA_URL"):
        from pyhanko.sign.timestamps import HTTPTimeStamper

        auth = (cfg["TSA_USER"], cfg.get("TSA_PASSWORD", "")) if cfg.get("TSA_USER") else None
        timestamper = HTTPTimeStamper(cfg["TSA_URL"], timeout=int(cfg.get("TSA_TIMEOUT", 10)), auth=auth)
    with unit_signer(unit_code) as signer:
        cert = signer.signing_cert
        _check_dates(cert)
        meta = signers.PdfSignatureMetadata(
            field_name=SIGNATURE_FIELD,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            embed_validation_info=True,
            validation_context=validation_context(for_signing=True),
            reason=stamp.reason,
            location=stamp.unit_name,
            name=stamp.signer_name,
        )
        pdf_signer = signers.PdfSigner(
            meta,
            signer=signer,
            timestamper=timestamper,
            stamp_style=_stamp_style(),
            new_field_spec=fields.SigFieldSpec(SIGNATURE_FIELD, on_page=last_page, box=(320, 24, 575, 92)),
        )
        try:
            out = pdf_signer.sign_pdf(
                writer,
                appearance_text_params={
                    "nguoi_ky": stamp.signer_name,
                    "don_vi": stamp.unit_name,
                    "thoi_gian": stamp.at.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M:%S (GMT+7)"),
                    "ly_do": stamp.reason,
                },
            )
        except SigningError as exc:
            raise SigningFailure(_signing_error_message(exc, cert), "signer_certificate_invalid") from exc
        except Exception as exc:  # the TSA or the CA's revocation servers: network, answer format
            if timestamper is not None and "imestamp" in f"{type(exc).__name__} {exc}":
                raise SigningFailure(
                    "Không lấy được dấu thời gian từ máy chủ cấp dấu thời gian (TSA).", "tsa_unavailable"
                ) from exc
            raise
    return out.getvalue(), cert_summary(cert)


def _check_dates(cert: asn1_x509.Certificate) -> None:
    summary = cert_summary(cert)
    now = datetime.now(UTC)
    if now > summary["not_after"]:
        raise SigningFailure(
            f"Chứng thư số {summary['serial']} đã hết hạn ngày {summary['not_after']:%d/%m/%Y}: không thể ký.",
            "certificate_expired",
        )
    if now < summary["not_before"]:
        raise SigningFailure(
            f"Chứng thư số {summary['serial']} chưa có hiệu lực (từ {summary['not_before']:%d/%m/%Y}).",
            "certificate_not_yet_valid",
        )


def _signing_error_message(exc: BaseException, cert: asn1_x509.Certificate) -> str:
    chain: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 10:
        chain.append(f"{type(seen).__name__} {seen}")
        seen = seen.__cause__ or seen.__context__
    text = " ".join(chain).lower()
    summary = cert_summary(cert)
    if "revoked" in text:
        return f"Chứng thư số {summary['serial']} đã bị thu hồi: không thể ký."
    if "expired" in text or "not valid" in text or "validity" in text:
        return f"Chứng thư số {summary['serial']} đã hết hạn hoặc chưa có hiệu lực: không thể ký."
    if "trust" in text or "path" in text:
        return "Chứng thư số không chuỗi được tới tổ chức chứng thực tin cậy đã cấu hình: không thể ký."
    return f"Chứng thư số không dùng được để ký: {exc}"


# --- verification ------------------------------------------------------------------------------------------


@dataclass
class SignatureReport:
    field_name: str
    signer: dict[str, Any]
    signed_at: datetime | None
    timestamp_at: datetime | None
    timestamp_trusted: bool | None
    intact: bool
    covers_whole_document: bool
    trusted: bool
    revoked: bool
    expired: bool
    problems: list[str] = field(default_factory=list)
    signature_digest: str = ""

    @property
    def ok(self) -> bool:
        return (
            self.intact
            and self.covers_whole_document
            and self.trusted
            and not self.revoked
            and not self.problems
        )


# What pyHanko's parser raises on a damaged file (anyone may upload one to the public page) has no common base:
# seen on files with one byte changed were PdfReadError, zlib.error, decimal.InvalidOperation, KeyError,
# TypeError… The parser is third-party code reading untrusted bytes, so every exception it raises means
# "damaged file": an answer ("unreadable", "broken signature"), never a crash. Only pyHanko calls sit inside
# the `except Exception` handlers below.


def read_pdf(data: bytes) -> Any:
    from pyhanko.pdf_utils.reader import PdfFileReader

    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise UnreadablePdf("Tệp không phải PDF.", "not_pdf")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        encrypted = reader.encrypted
        if not encrypted:
            _ = reader.root["/Pages"]
    except Exception as exc:  # damaged file (see above)
        raise UnreadablePdf("Tệp PDF bị hỏng, không đọc được.", "corrupt_pdf") from exc
    if encrypted:
        raise UnreadablePdf("Tệp PDF được mã hóa (có mật khẩu): không kiểm tra được chữ ký.", "encrypted_pdf")
    return reader


def verify_pdf(data: bytes) -> list[SignatureReport]:
    """Every signature of the document, checked against the configured trust roots."""

    reader = read_pdf(data)
    try:
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # damaged file (see above)
        raise UnreadablePdf("Tệp PDF bị hỏng, không đọc được chữ ký.", "corrupt_pdf") from exc
    if not embedded:
        raise UnreadablePdf("Tệp PDF không có chữ ký số.", "unsigned_pdf")
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    try:
        # PAdES-B-LT: the chain and the revocation data as of signing travel inside the document
        context = DocumentSecurityStore.read_dss(reader).as_validation_context(validation_kwargs())
    except Exception:  # no DSS (NoDSSFoundError) or a damaged one
        context = validation_context()
    return [_verify_one(sig, context) for sig in embedded]


def _verify_one(sig: Any, context: Any) -> SignatureReport:
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    cert = sig.signer_cert
    signer = cert_summary(cert)
    problems: list[str] = []
    try:
        status = validate_pdf_signature(sig, context)
    except Exception:  # SignatureValidationError, or a damaged file (see above)
        # a byte changed after signing may break the file's structure, which pyHanko finds only while it compares
        # revisions (PdfReadError): that is a broken signature to report, never a crash of the verification page
        return SignatureReport(
            field_name=sig.field_name, signer=signer, signed_at=None, timestamp_at=None, timestamp_trusted=None,
            intact=False, covers_whole_document=False, trusted=False, revoked=False, expired=False,
            problems=["Chữ ký không đọc được: tệp đã bị sửa hoặc hỏng sau khi ký."],
        )  # fmt: skip
    revoked = bool(status.revoked)
    trusted = bool(status.trusted)
    summary_text = str(getattr(status, "trust_problem_indic", "") or "").lower()
    now_or_sign = (
        status.timestamp_validity.timestamp if status.timestamp_validity else status.signer_reported_dt
    )
    expired = bool(now_or_sign and signer["not_after"] and now_or_sign > signer["not_after"]) or (
        "expired" in summary_text
    )
    if not status.intact:
        problems.append("Nội dung tài liệu đã bị thay đổi sau khi ký (mã băm không khớp).")
    # B-LT appends the validation data (DSS) after the signature: that, and document timestamps, are the only
    # later additions that leave a signed document unchanged (pyHanko's diff analysis: LTA_UPDATES).
    level = status.modification_level
    unchanged = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and level is not None
        and level <= ModificationLevel.LTA_UPDATES
    )
    if status.intact and not unchanged:
        problems.append("Tài liệu đã được sửa đổi hoặc thêm nội dung sau khi ký.")
    if revoked:
        problems.append("Chứng thư số của người ký đã bị thu hồi.")
    elif expired:
        problems.append("Chứng thư số của người ký đã hết hạn tại thời điểm ký.")
    elif not trusted:
        indic = str(getattr(status, "trust_problem_indic", "") or "")
        if "NO_CERTIFICATE_CHAIN_FOUND" in indic or not indic:
            problems.append("Chứng thư số không do tổ chức chứng thực tin cậy cấp (CA không xác định).")
        else:
            problems.append(
                "Không xác nhận được chứng thư số của người ký (không kiểm tra được tình trạng thu hồi hoặc "
                f"chuỗi chứng thực): {indic.split('.')[-1]}."
            )
    ts = status.timestamp_validity
    return SignatureReport(
        field_name=sig.field_name,
        signer=signer,
        signed_at=status.signer_reported_dt,
        timestamp_at=ts.timestamp if ts else None,
        timestamp_trusted=bool(ts.trusted) if ts else None,
        intact=bool(status.intact),
        covers_whole_document=unchanged,
        trusted=trusted,
        revoked=revoked,
        expired=expired,
        problems=problems,
        signature_digest=signature_digest(sig),
    )


def signature_digest(sig: Any) -> str:
    """sha256 of the signature value (the CMS signer's signature bytes): identifies a signature even when
    bytes were appended to the file later."""
    signer_info = sig.signer_info
    return hashlib.sha256(signer_info["signature"].native).hexdigest()


def signed_digest_of(data: bytes) -> str:
    """`signature_digest` of the last signature in freshly signed bytes."""
    reader = read_pdf(data)
    sigs = list(reader.embedded_signatures)
    return signature_digest(sigs[-1])
