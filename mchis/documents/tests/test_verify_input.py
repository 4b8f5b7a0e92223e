"""Issue 21, bad input: a file that is not a PDF, a corrupt or encrypted PDF, an unsigned PDF - each a clear
refusal (422 with the reason), logged; the page and `POST /api/v1/documents/verify` are open to anyone."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from mchis.core.models import AuditEvent

from . import pdfs

API = "/api/v1/documents/verify"


def post(client: Client, data: bytes, name: str = "van-ban.pdf"):
    return client.post(API, {"file": SimpleUploadedFile(name, data, content_type="application/pdf")})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"PK\x03\x04 this is a zip", "not_pdf", "không phải PDF"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage", "corrupt_pdf", "bị hỏng"),
        (None, "encrypted_pdf", "mã hóa"),
        (b"", "empty_file", "Chưa chọn tệp"),
        ("unsigned", "unsigned_pdf", "không có chữ ký"),
    ],
)
def test_bad_files_are_refused_clearly_and_logged(signing_on, data, code, words):
    if data is None:
        data = pdfs.encrypted_pdf()
    elif data == "unsigned":
        data = pdfs.plain_pdf()
    response = post(Client(), data)
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == code and words in body["message"]
    assert AuditEvent.objects.filter(action="document.verify_refused", changes__code=[None, code]).exists()


@pytest.mark.django_db
def test_anyone_can_verify_through_the_api(signing_on, pki):
    response = post(Client(), pdfs.signed_by(pki.valid, [pki.root]))
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True and body["stored"] is None
    assert body["signatures"][0]["signer"]["common_name"] == "TTYT khu vực Minh Xuân"
    assert AuditEvent.objects.filter(action="document.verify").exists()


@pytest.mark.django_db
def test_the_verification_page_is_public_and_in_vietnamese(signing_on, pki):
    client = Client()
    assert client.get("/documents/verify/").status_code == 200
    page = client.post(
        "/documents/verify/", {"file": SimpleUploadedFile("a.pdf", pdfs.signed_by(pki.revoked, [pki.root]))}
    )
    text = page.content.decode()
    assert page.status_code == 200 and "Đã bị thu hồi" in text and "KHÔNG hợp lệ" in text
    refused = client.post("/documents/verify/", {"file": SimpleUploadedFile("a.pdf", b"hello")})
    assert refused.status_code == 422 and "Tệp không phải PDF." in refused.content.decode()


@pytest.mark.django_db
def test_verification_is_rate_limited_per_address(signing_on, monkeypatch):
    from mchis.documents import services

    monkeypatch.setattr(services, "VERIFY_PER_MINUTE", 2)
    client = Client(REMOTE_ADDR="10.9.9.9")
    codes = [post(client, b"nope").status_code for _ in range(3)]
    assert codes == [422, 422, 429]
