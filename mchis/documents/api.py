"""/api/v1/documents — verification of signed documents, open to anyone (a recipient needs no account). Thin."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, File, Router, Schema
from ninja.files import UploadedFile

from . import services, signing

router = Router(tags=["documents"])


class SignerOut(Schema):
    common_name: str = Field(examples=["Trung tâm Y tế huyện Ba Vì"])
    organization: str = ""
    organizational_unit: str = ""
    issuer: str = Field(examples=["Tổ chức chứng thực chữ ký số"])
    serial: str
    fingerprint: str = Field(description="sha256 of the signer's certificate (hex)")
    not_before: datetime
    not_after: datetime


class SignatureOut(Schema):
    field_name: str
    signer: SignerOut
    signed_at: datetime | None = Field(description="Time the signer's software reported")
    timestamp_at: datetime | None = Field(description="RFC 3161 timestamp, when the signature carries one")
    timestamp_trusted: bool | None
    intact: bool = Field(description="The signed bytes hash to the signed value")
    unchanged_after_signing: bool = Field(description="Nothing but validation data was added after signing")
    trusted: bool = Field(description="The certificate chains to a configured root")
    revoked: bool
    expired: bool
    ok: bool
    problems: list[str]


class StoredOut(Schema):
    kind: str = Field(examples=["report"])
    kind_label: str
    title: str
    unit_name: str
    signed_by: str
    signed_at: datetime
    identical: bool = Field(description="Byte for byte the copy issued here")
    current: bool = Field(description="Not superseded by a newer signed version nor withdrawn")
    status_text: str


class ErrorOut(Schema):
    code: str = Field(examples=["rate_limited"])
    message: str
    field: str | None = None


class VerificationOut(Schema):
    valid: bool
    verdict: str
    sha256: str
    signatures: list[SignatureOut]
    stored: StoredOut | None = Field(description="The document as issued by this system, if it is ours")


def verification_out(result: services.Verification) -> VerificationOut:
    return VerificationOut(
        valid=result.valid,
        verdict=result.verdict,
        sha256=result.sha256,
        signatures=[
            SignatureOut(
                field_name=s.field_name,
                signer=SignerOut(**s.signer),
                signed_at=s.signed_at,
                timestamp_at=s.timestamp_at,
                timestamp_trusted=s.timestamp_trusted,
                intact=s.intact,
                unchanged_after_signing=s.covers_whole_document,
                trusted=s.trusted,
                revoked=s.revoked,
                expired=s.expired,
                ok=s.ok,
                problems=s.problems,
            )  # fmt: skip
            for s in result.signatures
        ],
        stored=StoredOut(**result.stored.__dict__) if result.stored else None,
    )


@router.post(
    "/verify",
    auth=None,
    response={200: VerificationOut, 429: ErrorOut},
    summary="Kiểm tra văn bản ký số (công khai)",
)
def documents_verify(
    request: HttpRequest,
    file: UploadedFile = File(..., description="The signed PDF (multipart field `file`)"),  # noqa: B008 - ninja API
) -> VerificationOut:
    """Who signed, when, whether the PDF changed after signing, whether it is a document issued here and still
    current. 422 with a reason for a file that is not a readable, unencrypted, signed PDF; 429 past 30 a
    minute from one address."""
    data = file.read(signing.MAX_PDF_BYTES + 1)
    result = services.document_verify(actor=request.user, data=data, filename=file.name or "")
    return verification_out(result)
