"""Issue 21: signing through PKCS#11 (a USB token / HSM) tested with SoftHSM - a software token holding the unit's
key and certificate under the unit's code; the approved report is signed on the token and verifies. Skipped with
the reason when the SoftHSM module is not installed (Debian package softhsm2, in .ci/run)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mchis.documents.models import SignedDocument

from .test_signing import approve, verify

MODULE = Path(os.environ.get("SOFTHSM2_MODULE", "/usr/lib/softhsm/libsofthsm2.so"))
PIN = "123456"

pytestmark = pytest.mark.skipif(
    not MODULE.is_file() or shutil.which("softhsm2-util") is None or shutil.which("pkcs11-tool") is None,
    reason="SoftHSM not installed (apt-get install softhsm2 opensc): the PKCS#11 path is not tested here",
)


@pytest.fixture
def token(pki, tmp_path, monkeypatch, tree):
    """A fresh SoftHSM token 'mchis-test' holding TTYT A's signing key and certificate, labelled with its code."""
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n", encoding="utf-8")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    run = lambda *args: subprocess.run(args, check=True, capture_output=True, timeout=60)  # noqa: E731
    run(
        "softhsm2-util", "--init-token", "--free", "--label", "mchis-test", "--pin", PIN, "--so-pin", "654321"
    )
    label = tree.ttyt_a.code
    key = tmp_path / "key.pem"
    key.write_bytes(pki.valid.key_pem)
    run("softhsm2-util", "--import", str(key), "--token", "mchis-test", "--label", label, "--id", "01",
        "--pin", PIN)  # fmt: skip
    cert = tmp_path / "cert.der"
    from cryptography.hazmat.primitives import serialization

    cert.write_bytes(pki.valid.cert.public_bytes(serialization.Encoding.DER))
    run("pkcs11-tool", "--module", str(MODULE), "--token-label", "mchis-test", "--login", "--pin", PIN,
        "--write-object", str(cert), "--type", "cert", "--label", label, "--id", "01")  # fmt: skip
    return label


@pytest.mark.django_db
def test_an_approval_is_signed_on_a_pkcs11_token_and_verifies(
    token, signing_on, settings, forms, people, tree
):
    settings.DOCUMENT_SIGNING = {
        **signing_on,
        "KEY_STORE": "pkcs11",
        "PKCS11_MODULE": str(MODULE),
        "PKCS11_TOKEN_LABEL": "mchis-test",
        "PKCS11_PIN": PIN,
        "PKCS11_KEY_LABEL": "{unit}",
    }
    report = approve(people, tree)
    doc = SignedDocument.objects.get(object_type="report", object_id=str(report.pk))
    assert doc.key_store == "pkcs11" and doc.cert_subject == "TTYT khu vực Minh Xuân"
    result = verify(bytes(doc.pdf))
    assert result.valid, result.verdict


@pytest.mark.django_db
def test_a_wrong_pin_is_a_clear_refusal_and_nothing_is_approved(
    token, signing_on, settings, forms, people, tree
):
    from mchis.documents.services import SigningRefused
    from mchis.reports.models import ReportInstance, ReportStatus

    settings.DOCUMENT_SIGNING = {
        **signing_on, "KEY_STORE": "pkcs11", "PKCS11_MODULE": str(MODULE), "PKCS11_TOKEN_LABEL": "mchis-test",
        "PKCS11_PIN": "000000", "PKCS11_KEY_LABEL": "{unit}",
    }  # fmt: skip
    with pytest.raises(SigningRefused, match="USB token/HSM"):
        approve(people, tree)
    assert not SignedDocument.objects.exists()
    assert not ReportInstance.objects.filter(status=ReportStatus.APPROVED).exists()
