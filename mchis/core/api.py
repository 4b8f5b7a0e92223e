"""Shared API pieces: error responses and pagination limits."""

from __future__ import annotations

from typing import Annotated, Any, cast

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Schema
from ninja.pagination import LimitOffsetPagination
from ninja.parser import Parser

from .errors import DomainError
from .inputs import check_text, parse_json_body

# Bounded pagination everywhere: a page is at most MAX_LIMIT rows and an offset at most MAX_OFFSET (deeper
# pages are a filter's job); out-of-range values are a 422 from the schema, documented in the OpenAPI.
MAX_LIMIT = 200
MAX_OFFSET = 100_000
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"1..{MAX_LIMIT}")]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description=f"0..{MAX_OFFSET}")]


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """django-ninja's limit/offset pagination with both bounds enforced (422 outside them)."""

    class Input(Schema):
        limit: Limit = 100
        offset: Offset = 0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)


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

    @api.exception_handler(OverflowError)
    def number_too_large(request: HttpRequest, exc: OverflowError) -> HttpResponse:
        # An integer parameter beyond what the database stores names no object.
        return api.create_response(request, {"code": "not_found", "message": "Không tìm thấy."}, status=404)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, {"code": "not_found", "message": "Không tìm thấy."}, status=404)
