"""Shared API pieces: error responses and pagination limits."""

from __future__ import annotations

from typing import Any, cast

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.parser import Parser

from .errors import DomainError
from .inputs import check_text, parse_json_body


class SanitizedParser(Parser):
    """JSON bodies under the input rules of mchis.core.inputs (depth, control characters, finite numbers).

    InputSanitizingMiddleware has usually parsed and checked the body already; reuse that."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        parsed = getattr(request, "_mchis_json", None)
        if parsed is not None:
            return cast(dict[str, Any], parsed)
        return cast(dict[str, Any], parse_json_body(request.body))

    def parse_querydict(self, data: Any, list_fields: list[str], request: HttpRequest) -> dict[str, Any]:
        for key, values in data.lists():
            check_text(str(key), field=str(key)[:60], allow_whitespace=False)
            for value in values:
                if isinstance(value, str):
                    check_text(value, field=str(key)[:60])
        return cast(dict[str, Any], super().parse_querydict(data, list_fields, request))


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return api.create_response(request, exc.as_dict(), status=exc.status_code)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, {"code": "not_found", "message": "Không tìm thấy."}, status=404)
