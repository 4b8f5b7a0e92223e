"""Issue 21: approved reports are PAdES-signed with the approving unit's key; anyone can verify them.

Done-when tests: a signed report verifies; a byte changed after signing fails; an expired or revoked signer
is reported (and refused at signing); a signature by someone outside the approving unit is refused.
"""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from mchis.accounts.testing import stepped_up
from mchis.core.errors import PermissionDeniedError, StepUpRequired
from mchis.core.models import AuditEvent
from mchis.documents import services, signing
from mchis.documents.models import SignedDocument
from mchis.reports import services as reports
from mchis.reports.tests.registerdata import submit

from . import pdfs
from .conftest import install_key

P = "2026-01"


def approve(people, tree):
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    with stepped_up():
        return reports.report_approve(
            actor=people.ttyt_leader, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P
        )


def verify(data: bytes) -> services.Verification:
    return services.document_verify(actor=None, data=data)


@pytest.mark.django_db
def test_an_approved_report_is_signed_and_verifies(signing_on, forms, people, tree, local_tsa):
    # given signing configured for the approving unit (TTYT A), when its leader approves TYT A1's report
    before = local_tsa.requests
    report = approve(people, tree)
    # then the report's signed PDF is stored, with the certificate and a timestamp from the TSA
    doc = SignedDocument.objects.get(object_type="report", object_id=str(report.pk))
    assert doc.unit == tree.ttyt_a and doc.signed_by == people.ttyt_leader and doc.is_current
    assert doc.cert_subject == "TTYT khu vực Minh Xuân" and doc.timestamped
    assert local_tsa.requests > before
    # and the audit log records the signature with the document's hash
    event = AuditEvent.objects.get(action="document.sign", object_id=str(report.pk))
    assert event.changes["sha256"] == [None, hashlib.sha256(bytes(doc.pdf)).hexdigest()]
    # and the PDF verifies: who, when, unchanged, trusted, ours and current
    result = verify(bytes(doc.pdf))
    assert result.valid, result.verdict
    sig = result.signatures[0]
    assert sig.signer["common_name"] == "TTYT khu vực Minh Xuân"
    assert sig.timestamp_at is not None and sig.timestamp_trusted
    assert result.stored is not None and result.stored.current and result.stored.identical
    assert result.verdict == "Chữ ký hợp lệ; văn bản khớp bản lưu tại hệ thống."
    # and it still verifies from what the PDF carries alone (B-LT: the CRL is embedded), with no CRL configured
    signing_on["CRLS"] = []
    assert verify(bytes(doc.pdf)).valid
    # and the report's PDF download is that signed document
    client = Client()
    client.force_login(people.tyt_reporter)
    assert client.get(f"/reports/BCX3/{tree.tyt_a1.code}/{P}/pdf").content == bytes(doc.pdf)


@pytest.mark.django_db
def test_a_byte_changed_after_signing_fails_verification(signing_on, forms, people, tree):
    report = approve(people, tree)
    signed = bytearray(SignedDocument.objects.get(object_id=str(report.pk)).pdf)
    # when one byte of the signed content changes (inside the page content, before the signature)
    signed[len(signed) // 4] ^= 0x01
    result = verify(bytes(signed))
    # then the signature no longer matches
    assert not result.valid
    assert not result.signatures[0].intact
    assert "bị thay đổi sau khi ký" in result.verdict


@pytest.mark.django_db
def test_content_appended_after_signing_is_reported_as_changed(signing_on, forms, people, tree):
    from io import BytesIO

    from pyhanko.pdf_utils.generic import NameObject, TextStringObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    report = approve(people, tree)
    doc = SignedDocument.objects.get(object_id=str(report.pk))
    # when someone adds an incremental update (new document info) to the signed file
    writer = IncrementalPdfFileWriter(BytesIO(bytes(doc.pdf)))
    writer.root[NameObject("/Lang")] = TextStringObject("en")
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    result = verify(out.getvalue())
    # then the signature is intact but the document is reported changed; it is still recognised as ours
    assert result.signatures[0].intact and not result.signatures[0].covers_whole_document
    assert not result.valid
    assert result.stored is not None and not result.stored.identical


@pytest.mark.django_db
@pytest.mark.parametrize(("which", "words"), [("expired", "hết hạn"), ("revoked", "thu hồi")])
def test_an_expired_or_revoked_signer_is_refused_at_signing(
    signing_on, forms, people, tree, pki, which, words
):
    # given the unit's key store holds an expired / revoked certificate
    install_key(pki, tree.ttyt_a.code, which)
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    # when the leader approves, the signature is refused with the reason, and nothing is approved
    with stepped_up(), pytest.raises(services.SigningRefused, match=words):
        reports.report_approve(
            actor=people.ttyt_leader, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P
        )
    assert not SignedDocument.objects.exists()
    assert not AuditEvent.objects.filter(action="report.approve").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("which", "flag", "words"), [("expired", "expired", "hết hạn"), ("revoked", "revoked", "thu hồi")]
)
def test_an_expired_or_revoked_signer_is_reported_at_verification(signing_on, pki, which, flag, words):
    # given a PDF signed elsewhere with an expired / revoked certificate of our CA
    data = pdfs.signed_by(getattr(pki, which), [pki.root])
    result = verify(data)
    # then verification names the problem
    assert not result.valid
    assert getattr(result.signatures[0], flag)
    assert words in result.verdict


@pytest.mark.django_db
def test_a_signature_by_an_unknown_ca_is_reported_untrusted(signing_on, pki):
    result = verify(pdfs.signed_by(pki.stranger, [pki.stranger_root]))
    assert not result.valid and not result.signatures[0].trusted
    assert "CA không xác định" in result.verdict


@pytest.mark.django_db
def test_a_valid_signature_on_a_document_not_issued_here_says_so(signing_on, pki):
    result = verify(pdfs.signed_by(pki.valid, [pki.root]))
    assert result.valid and result.stored is None
    assert "không do hệ thống này phát hành" in result.verdict


@pytest.mark.django_db
def test_a_signature_by_someone_outside_the_approving_unit_is_refused(signing_on, tree, make_user):
    # given a leader of a commune station asking to sign with TTYT A's key
    outsider = make_user("leader", tree.tyt_a1)
    with stepped_up(), pytest.raises(PermissionDeniedError, match="Chỉ người thuộc"):
        services.document_sign(actor=outsider, kind="report", object_type="report", object_id=1, title="x",
                               unit=tree.ttyt_a, pdf=pdfs.plain_pdf(), reason="Duyệt")  # fmt: skip
    assert not SignedDocument.objects.exists()


@pytest.mark.django_db
def test_signing_needs_a_recent_step_up(signing_on, tree, make_user):
    leader = make_user("leader", tree.ttyt_a)
    with pytest.raises(StepUpRequired, match="xác thực lại"):
        services.document_sign(actor=leader, kind="report", object_type="report", object_id=1, title="x",
                               unit=tree.ttyt_a, pdf=pdfs.plain_pdf(), reason="Duyệt")  # fmt: skip


@pytest.mark.django_db
def test_unapproval_withdraws_the_signed_report(signing_on, forms, people, tree):
    report = approve(people, tree)
    doc = SignedDocument.objects.get(object_id=str(report.pk))
    reports.report_request_unapproval(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code,
                                      period=P, reason="Sai số liệu sổ đẻ")  # fmt: skip
    with stepped_up():
        reports.report_unapprove(actor=people.ttyt_leader, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P,
                                 reason="Sai số liệu sổ đẻ")  # fmt: skip
    result = verify(bytes(doc.pdf))
    assert result.stored is not None and not result.stored.current
    assert "thu hồi" in result.verdict and "Sai số liệu sổ đẻ" in result.verdict


@pytest.mark.django_db
def test_without_a_key_the_report_is_approved_unsigned_unless_signing_is_required(
    settings, forms, people, tree
):
    report = approve(people, tree)
    assert report.status == "approved" and not SignedDocument.objects.exists()
    # with signing required, an approving unit without a key cannot approve
    settings.DOCUMENT_SIGNING = {**settings.DOCUMENT_SIGNING, "KEY_STORE": "pkcs12", "REQUIRED": True,
                                 "PKCS12_DIR": "/nonexistent"}  # fmt: skip
    assert not signing.has_unit_key(tree.ttyt_a.code)
    assert services.signing_required()
