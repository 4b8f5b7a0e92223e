"""Kiểm tra văn bản ký số: a public page (no account needed) to check a signed PDF. Thin."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mchis.core.errors import DomainError

from . import services, signing


def verify(request: HttpRequest) -> HttpResponse:
    result, error, status = None, "", 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        data = upload.read(signing.MAX_PDF_BYTES + 1) if upload else b""
        try:
            result = services.document_verify(
                actor=request.user, data=data, filename=(upload.name or "") if upload else ""
            )
        except DomainError as exc:
            error, status = exc.message, exc.status_code
    return render(
        request,
        "documents/verify.html",
        {"result": result, "error": error, "max_mb": signing.MAX_PDF_BYTES // (1024 * 1024)},
        status=status,
    )
