"""Reads of signed documents. The callers (reports, quality, registry) have already scoped the object the
document belongs to; lists for people go through `visible_to`."""

from __future__ import annotations

from typing import Any

from mchis.core.scoping import visible_to

from .models import SignedDocument


def current_signed(object_type: str, object_id: str | int) -> SignedDocument | None:
    """The current signed version of a thing the caller may already see (None when it was never signed)."""
    return SignedDocument.objects.current().filter(object_type=object_type, object_id=str(object_id)).first()


def current_signed_pdf(object_type: str, object_id: str | int) -> bytes | None:
    doc = current_signed(object_type, object_id)
    return bytes(doc.pdf) if doc is not None else None


def signed_documents_visible(principal: Any) -> Any:
    return visible_to(SignedDocument.objects.select_related("unit", "signed_by"), principal)
