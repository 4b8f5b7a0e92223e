"""Issue 21: the official lists (review list, list for the commune police) are exported as PDFs signed PAdES with
the exporting unit's key; anyone can verify them on the public page; a byte changed after signing fails."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.test import Client

from mchis.core.models import AuditEvent
from mchis.documents.models import SignedDocument
from mchis.documents.services import document_verify
from mchis.registry.tests.conftest import collector, leader, make_child, unit  # noqa: F401

from .conftest import install_key


@pytest.fixture(autouse=True)
def _many_verifications(monkeypatch):
    """These tests verify dozens of tampered copies within a minute: the public page's rate limit is not tested here."""
    from mchis.documents import services

    monkeypatch.setattr(services, "_rate_limit", lambda: None)


@pytest.fixture
def exporter(collector, make_child, pki, signing_on, settings):  # noqa: F811
    settings.ROLES_REQUIRING_2FA = []
    install_key(pki, collector.unit.code)
    make_child(full_name="Lò Thị Hoa", sex="F", personal_id="", mother_name="Lò Thị Mai")
    make_child(full_name="Hà Văn Nam", personal_id="")
    client = Client()
    client.force_login(collector)
    session = client.session
    session["mchis_step_up_at"] = time.time()
    session.save()
    return client


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/children/review/export.pdf?kind=no_id", "review_no_id"),
        ("/children/police/export.pdf", "police"),
    ],
)
def test_an_official_list_is_a_signed_pdf_that_verifies(exporter, collector, url, name):  # noqa: F811
    response = exporter.get(url)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    doc = SignedDocument.objects.get(kind="official_list")
    assert doc.object_id.startswith(f"{name}:{collector.unit.code}:") and bytes(doc.pdf) == pdf
    assert doc.signed_by == collector and collector.unit.name in doc.title
    assert AuditEvent.objects.filter(action="document.sign", object_type="official_list").exists()
    result = document_verify(actor=None, data=pdf)
    assert result.valid and result.stored is not None and result.stored.current, result.verdict
    # the public page says so too (anyone, no login)
    page = Client().post("/documents/verify/", {"file": _upload(pdf)})
    text = page.content.decode()
    assert page.status_code == 200 and "Chữ ký hợp lệ; văn bản khớp bản lưu tại hệ thống." in text
    assert "Danh sách chính thức" in text
    # a byte changed after signing is caught wherever it falls in what the signature covers (page content, a
    # name, an offset, the signature dictionary): the answer is "not valid" or "unreadable", never a crash
    for position in signed_positions(pdf, 20):
        assert_tamper_caught(pdf, position)


def signed_positions(pdf: bytes, count: int) -> list[int]:
    """Evenly spread offsets inside the first signature's /ByteRange: the hole holding the signature value and
    the validation data appended after signing (PAdES-B-LT) are not covered, by design."""
    import re

    found = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert found is not None
    start, first, second, length = (int(x) for x in found.groups())
    covered = [*range(start + 10, start + first), *range(second + 1, second + length)]
    return covered[:: max(1, len(covered) // count)][:count]


def assert_tamper_caught(pdf: bytes, position: int) -> None:
    from mchis.documents.services import VerificationRefused

    tampered = bytearray(pdf)
    tampered[position] ^= 0x01
    try:
        result = document_verify(actor=None, data=bytes(tampered))
    except VerificationRefused as refused:
        assert refused.code in {"corrupt_pdf", "unsigned_pdf", "not_pdf"}, (position, refused.code)
    else:
        assert not result.valid, position


def test_a_byte_changed_inside_a_name_is_a_broken_signature_not_a_crash(exporter):
    """The intermittent failure of the police list: the flipped byte fell on a '/' of a name object, which pyHanko
    finds only while comparing revisions ('Name object should start with /')."""
    pdf = exporter.get("/children/police/export.pdf").content
    covered = set(signed_positions(pdf, len(pdf)))
    names = [i for i in sorted(covered) if i > 16 and pdf[i : i + 1] == b"/"]
    for position in names[:: max(1, len(names) // 40)]:
        assert_tamper_caught(pdf, position)


def test_without_a_unit_key_the_list_is_a_plain_pdf_unless_signing_is_required(
    exporter,
    collector,  # noqa: F811
    signing_on,
    settings,
):
    (Path(signing_on["PKCS12_DIR"]) / f"{collector.unit.code}.p12").unlink()
    response = exporter.get("/children/review/export.pdf?kind=no_id")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert not SignedDocument.objects.exists()
    settings.DOCUMENT_SIGNING = {**signing_on, "REQUIRED": True}
    refused = exporter.get("/children/review/export.pdf?kind=no_id")
    assert refused.status_code == 409 and "chưa có chứng thư số" in refused.content.decode()


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("danh-sach.pdf", data, content_type="application/pdf")
