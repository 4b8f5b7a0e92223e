"""Writes for signed documents: sign (PAdES), withdraw, and the audit of every verification.

Called by the apps that issue official documents (reports on approval, quality for audit minutes, registry
for official lists), inside their own transaction: the signature and its audit row (with the document's
sha256) commit or roll back with the act itself.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from mchis.accounts.permissions import require_person
from mchis.core.audit import log_event
from mchis.core.context import current_meta
from mchis.core.errors import DomainError, PermissionDeniedError
from mchis.core.stepup import require_step_up

from . import signing
from .models import DocumentKind, SignedDocument

logger = logging.getLogger(__name__)

VERIFY_PER_MINUTE = 30  # per client address: verification is public, each one is audited


class SigningRefused(DomainError):
    status_code = 409
    code = "signing_refused"


class VerificationRefused(DomainError):
    status_code = 422
    code = "verification_refused"


class TooManyVerifications(DomainError):
    status_code = 429
    code = "rate_limited"


def signing_available(unit_code: str) -> bool:
    """True when documents of this unit are signed (a key store is configured and holds the unit's key)."""
    return bool(signing.key_store()) and signing.has_unit_key(unit_code)


def signing_required() -> bool:
    return bool(signing.config().get("REQUIRED"))


def _refuse(actor: Any, action: str, message: str, code: str, **changes: Any) -> DomainError:
    """A refused signature is logged even though the caller's transaction will roll back."""
    logger.warning("document signing refused (%s) for %s: %s %s", code, getattr(actor, "username", actor),
                   message, changes)  # fmt: skip
    if code == "outside_unit":
        return PermissionDeniedError(message, code=code)
    return SigningRefused(message, code=code)


def document_sign(
    *,
    actor: Any,
    kind: str,
    object_type: str,
    object_id: str | int,
    title: str,
    unit: Any,
    pdf: bytes,
    reason: str,
) -> SignedDocument:
    """Ký số: sign `pdf` with `unit`'s key on behalf of `actor`, who must belong to `unit` and have passed the
    step-up (with a security key when the role requires one). Must run inside the caller's transaction."""
    require_person(actor)
    if kind not in DocumentKind.values:
        raise ValueError(f"unknown document kind {kind!r}")
    if getattr(actor, "unit_id", None) != unit.pk:
        raise _refuse(
            actor, "sign", f"Chỉ người thuộc {unit.name} mới được ký văn bản này bằng chứng thư số của đơn vị.",
            "outside_unit", unit=unit.code,
        )  # fmt: skip
    require_step_up()
    signed_at = timezone.now()
    name = (actor.get_full_name() or actor.username) if hasattr(actor, "get_full_name") else str(actor)
    try:
        signed, cert = signing.sign_pdf(
            pdf, unit_code=unit.code, stamp=signing.Stamp(signer_name=name, unit_name=unit.name, at=signed_at,
                                                          reason=reason),
        )  # fmt: skip
    except signing.SigningFailure as exc:
        raise _refuse(actor, "sign", exc.message, exc.code, unit=unit.code) from exc
    return _record(actor=actor, kind=kind, object_type=object_type, object_id=str(object_id), title=title,
                   unit=unit, pdf=pdf, signed=signed, cert=cert, signed_at=signed_at, reason=reason)  # fmt: skip


@transaction.atomic
def _record(*, actor: Any, kind: str, object_type: str, object_id: str, title: str, unit: Any, pdf: bytes,
            signed: bytes, cert: dict[str, Any], signed_at: Any, reason: str) -> SignedDocument:  # fmt: skip
    previous = list(
        SignedDocument.objects.select_for_update()
        .current()
        .filter(object_type=object_type, object_id=object_id)
    )
    for old in previous:
        old.superseded_at = signed_at
        old.save(update_fields=["superseded_at"])
    doc = SignedDocument.objects.create(
        kind=kind, object_type=object_type, object_id=object_id, title=title[:255], unit=unit, signed_by=actor,
        signed_at=signed_at, reason=reason[:255], content_sha256=hashlib.sha256(pdf).hexdigest(),
        sha256=hashlib.sha256(signed).hexdigest(), signature_digest=signing.signed_digest_of(signed),
        cert_subject=cert["common_name"][:255], cert_issuer=cert["issuer"][:255], cert_serial=cert["serial"],
        cert_fingerprint=cert["fingerprint"], key_store=signing.key_store(),
        timestamped=bool(signing.config().get("TSA_URL")), pdf=signed,
    )  # fmt: skip
    log_event(
        actor=actor,
        action="document.sign",
        object_type=object_type,
        object_id=object_id,
        scope_path=unit.path,
        changes={
            "sha256": [None, doc.sha256],
            "content_sha256": [None, doc.content_sha256],
            "certificate": [None, f"{doc.cert_subject} / {doc.cert_issuer} / {doc.cert_serial}"],
            "timestamp": [None, doc.timestamped],
            "superseded": [None, [p.sha256 for p in previous]],
        },
        reason=reason,
    )
    return doc


@transaction.atomic
def document_withdraw(*, actor: Any, object_type: str, object_id: str | int, reason: str) -> int:
    """The signed version of a thing no longer stands (e.g. a report un-approved): verification says so."""
    docs = list(
        SignedDocument.objects.select_for_update()
        .current()
        .filter(object_type=object_type, object_id=str(object_id))
    )
    now = timezone.now()
    for doc in docs:
        doc.withdrawn_at, doc.withdrawn_reason = now, reason or "Thu hồi"
        doc.save(update_fields=["withdrawn_at", "withdrawn_reason"])
        log_event(actor=actor, action="document.withdraw", object_type=object_type, object_id=str(object_id),
                  scope_path=doc.unit.path, changes={"sha256": [doc.sha256, None]}, reason=doc.withdrawn_reason)  # fmt: skip
    return len(docs)


# --- verification (public) ---------------------------------------------------------------------------------


@dataclass
class StoredMatch:
    kind: str
    kind_label: str
    title: str
    unit_name: str
    signed_by: str
    signed_at: Any
    identical: bool
    current: bool
    status_text: str


@dataclass
class Verification:
    sha256: str
    signatures: list[signing.SignatureReport] = field(default_factory=list)
    stored: StoredMatch | None = None

    @property
    def valid(self) -> bool:
        return bool(self.signatures) and all(s.ok for s in self.signatures)

    @property
    def verdict(self) -> str:
        if not self.valid:
            return "Chữ ký KHÔNG hợp lệ: " + "; ".join(p for s in self.signatures for p in s.problems)
        if self.stored is None:
            return "Chữ ký hợp lệ, nhưng văn bản không do hệ thống này phát hành."
        if not self.stored.current:
            return "Chữ ký hợp lệ, nhưng văn bản đã được thay thế hoặc thu hồi: " + self.stored.status_text
        return "Chữ ký hợp lệ; văn bản khớp bản lưu tại hệ thống."


def _rate_limit() -> None:
    ip = current_meta().ip or "unknown"
    key = f"documents.verify:{ip}:{int(timezone.now().timestamp() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:
        count = 1
    if count > VERIFY_PER_MINUTE:
        raise TooManyVerifications("Quá nhiều yêu cầu kiểm tra: vui lòng thử lại sau một phút.")


def _audit_verify(actor: Any, action: str, sha: str, changes: dict[str, Any], reason: str = "") -> None:
    with transaction.atomic():
        log_event(actor=actor, action=action, object_type="document", object_id=sha[:64], changes=changes,
                  reason=reason)  # fmt: skip


def document_verify(*, actor: Any, data: bytes, filename: str = "") -> Verification:
    """Kiểm tra văn bản ký số: who signed, when, whether it changed after signing, whether it is ours and
    current. Anyone may ask (actor may be anonymous); every answer and every refusal is audited."""
    _rate_limit()
    sha = hashlib.sha256(data).hexdigest()
    if not data:
        _audit_verify(actor, "document.verify_refused", sha, {"code": [None, "empty_file"]}, filename)
        raise VerificationRefused("Chưa chọn tệp PDF.", field="file", code="empty_file")
    if len(data) > signing.MAX_PDF_BYTES:
        _audit_verify(actor, "document.verify_refused", sha, {"code": [None, "too_large"]}, filename)
        raise VerificationRefused(
            f"Tệp quá lớn (tối đa {signing.MAX_PDF_BYTES // (1024 * 1024)} MB).",
            field="file",
            code="too_large",
        )
    try:
        reports = signing.verify_pdf(data)
    except signing.UnreadablePdf as exc:
        _audit_verify(actor, "document.verify_refused", sha, {"code": [None, exc.code]}, filename)
        raise VerificationRefused(exc.message, field="file", code=exc.code) from exc
    result = Verification(sha256=sha, signatures=reports)
    digests = [r.signature_digest for r in reports if r.signature_digest]
    doc = (
        SignedDocument.objects.select_related("unit", "signed_by")
        .filter(signature_digest__in=digests)
        .first()
        if digests
        else None
    )
    if doc is not None:
        if doc.withdrawn_at:
            status_text = (
                f"đã thu hồi ngày {timezone.localtime(doc.withdrawn_at):%d/%m/%Y} ({doc.withdrawn_reason})"
            )
        elif doc.superseded_at:
            status_text = f"đã có bản ký mới hơn từ ngày {timezone.localtime(doc.superseded_at):%d/%m/%Y}"
        else:
            status_text = "bản hiện hành"
        result.stored = StoredMatch(
            kind=doc.kind, kind_label=doc.get_kind_display(), title=doc.title, unit_name=doc.unit.name,
            signed_by=doc.signed_by.get_full_name() or doc.signed_by.username, signed_at=doc.signed_at,
            identical=doc.sha256 == sha, current=doc.is_current, status_text=status_text,
        )  # fmt: skip
    _audit_verify(
        actor, "document.verify", sha,
        {"valid": [None, result.valid], "known": [None, doc is not None],
         "problems": [None, [p for r in reports for p in r.problems]]},
        filename,
    )  # fmt: skip
    return result
