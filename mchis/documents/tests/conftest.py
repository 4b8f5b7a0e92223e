"""The documents tests' own PKI (built once per test process) and a signing configuration pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mchis.documents import testpki
from mchis.reports.tests.conftest import forms, people  # noqa: F401 - the reports fixtures, reused


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> testpki.TestPKI:
    built = testpki.build(unit_code="TTYT08-01", unit_name="TTYT khu vực Minh Xuân")
    built.write(tmp_path_factory.mktemp("pki"))
    return built


@pytest.fixture(scope="session")
def local_tsa(pki) -> Iterator[testpki.LocalTSA]:
    with testpki.LocalTSA(pki) as tsa:
        yield tsa


def install_key(pki: testpki.TestPKI, unit_code: str, which: str = "valid") -> Path:
    """Put `which` signer's PKCS#12 in the key directory under the unit's code (as an administrator would)."""
    path = pki.files["keys"] / f"{unit_code}.p12"
    path.write_bytes(pki.pkcs12_for(which))
    return path


@pytest.fixture
def signing_on(settings, pki, local_tsa) -> Any:
    """PKCS#12 key store with TTYT A's unit certificate, the test root and CRL trusted, the local TSA."""
    install_key(pki, "TTYT08-01")
    settings.DOCUMENT_SIGNING = {
        **settings.DOCUMENT_SIGNING,
        "KEY_STORE": "pkcs12",
        "PKCS12_DIR": str(pki.files["keys"]),
        "PKCS12_PASSPHRASE": testpki.PASSPHRASE.decode(),
        "TRUST_ROOTS": [str(pki.files["root"])],
        "CRLS": [str(pki.files["crl"])],
        "ALLOW_FETCHING": False,
        "TSA_URL": local_tsa.url,
    }
    return settings.DOCUMENT_SIGNING
