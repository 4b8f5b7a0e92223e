"""Official lists as signed PDFs (issue 21): the review lists (QĐ 3978 Điều 8) and the list sent to the commune
police for ID verification, printed with the unit, the date and the person who exported them, and signed PAdES
with the unit's key by the documents app when the unit holds one (the Excel export stays for working copies).
The signed copy is kept (documents.SignedDocument, kind "official_list"), so the public verification page says
who issued it and whether it matches the copy stored here."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from mchis.core.dates import dmy
from mchis.core.errors import Conflict


def render_list_pdf(
    *, title: str, purpose: str, columns: list[tuple[str, str]], rows: list[dict[str, Any]], actor: Any
) -> bytes:
    from weasyprint import HTML

    unit = getattr(actor, "unit", None)
    with translation.override("vi"):  # an official document is in Vietnamese whatever the UI language
        html = render_to_string(
            "registry/official_list.html",
            {
                "title": title,
                "purpose": purpose,
                "unit": unit,
                "issued_at": timezone.localtime(),
                "issued_by": (actor.get_full_name() or actor.username) if hasattr(actor, "username") else "",
                "headers": [label for _, label in columns],
                "rows": [[_text(row.get(key)) for key, _ in columns] for row in rows],
            },
        )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def _text(value: Any) -> str:
    if value is None:
        return ""
    return dmy(value) if hasattr(value, "strftime") else str(value)


@transaction.atomic
def official_list_issue(
    *,
    actor: Any,
    name: str,
    title: str,
    purpose: str,
    columns: list[tuple[str, str]],
    rows: list[dict[str, Any]],
) -> bytes:
    """The list as a PDF, signed with the exporter's unit key when it holds one (refused when signing is
    required and it does not). `name` identifies the list (e.g. "review_no_id"); each export is its own
    document."""
    from mchis.documents import services as documents

    pdf = render_list_pdf(title=title, purpose=purpose, columns=columns, rows=rows, actor=actor)
    unit = getattr(actor, "unit", None)
    if unit is None or not documents.signing_available(unit.code):
        if documents.signing_required():
            raise Conflict(
                "Đơn vị của bạn chưa có chứng thư số để ký danh sách chính thức.", code="no_signing_key"
            )
        return pdf
    issued = timezone.localtime()
    doc = documents.document_sign(
        actor=actor, kind="official_list", object_type="official_list",
        object_id=f"{name}:{unit.code}:{issued:%Y%m%d%H%M%S%f}", title=f"{title} — {unit.name} — {issued:%d/%m/%Y}",
        unit=unit, pdf=pdf, reason=f"Ký {title.lower()}",
    )  # fmt: skip
    return bytes(doc.pdf)
