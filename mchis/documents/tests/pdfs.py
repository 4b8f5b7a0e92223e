"""PDFs for the tests: a plain one, and one signed directly with pyHanko by any test certificate (bypassing
the service's own checks, as a forger or another system would)."""

from __future__ import annotations

import io

from cryptography.hazmat.primitives import serialization

from mchis.documents.testpki import Issued


def plain_pdf(text: str = "Văn bản thử nghiệm") -> bytes:
    from weasyprint import HTML

    return bytes(HTML(string=f"<h1>{text}</h1>").write_pdf())


def _asn1(issued: Issued) -> tuple[object, object]:
    from asn1crypto import keys, x509

    cert = x509.Certificate.load(issued.cert.public_bytes(serialization.Encoding.DER))
    key = keys.PrivateKeyInfo.load(
        issued.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert, key


def signed_by(issued: Issued, chain: list[Issued], pdf: bytes | None = None) -> bytes:
    """A PAdES B-B signature with `issued`'s key, whatever its certificate's state."""
    from asn1crypto import x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    cert, key = _asn1(issued)
    store = SimpleCertificateStore.from_certs(
        [x509.Certificate.load(c.cert.public_bytes(serialization.Encoding.DER)) for c in chain]
    )
    signer = signers.SimpleSigner(signing_cert=cert, signing_key=key, cert_registry=store)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf or plain_pdf()))
    meta = signers.PdfSignatureMetadata(field_name="Sig", subfilter=fields.SigSeedSubFilter.PADES)
    return bytes(signers.PdfSigner(meta, signer=signer).sign_pdf(writer).getvalue())


def encrypted_pdf() -> bytes:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(plain_pdf())))
    writer.encrypt("chu-so-huu", "nguoi-doc")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
