"""Shared API pieces: error responses and pagination limits."""

from __future__ import annotations

from typing import Annotated, Any, cast

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
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
    """Every error answer has one shape, `ERROR_SCHEMA`: {code, message[, field][, errors]}."""

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

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [
            {
                "field": ".".join(str(part) for part in error.get("loc", ())[1:]) or None,
                "message": str(error.get("msg", "")),
                "location": str(error.get("loc", ("",))[0]),
            }
            for error in exc.errors
        ]
        body = {"code": "validation", "message": "Dữ liệu không hợp lệ.", "errors": errors}
        return api.create_response(request, body, status=422)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        body = {
            "code": "unauthorized",
            "message": "Cần đăng nhập (cookie phiên) hoặc mã truy cập (Authorization: Bearer).",
        }
        return api.create_response(request, body, status=401)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {400: "malformed", 401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(
            exc.status_code, "error"
        )
        message = "Không đọc được nội dung yêu cầu (JSON)." if exc.status_code == 400 else str(exc)
        return api.create_response(request, {"code": code, "message": message}, status=exc.status_code)


# --- the error contract, written into the OpenAPI of every operation ----------------------------------------

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "examples": ["person_required"]},
        "message": {"type": "string", "description": "Vietnamese, names the field when there is one"},
        "field": {"type": ["string", "null"]},
        "errors": {"type": ["array", "null"], "items": {"type": "object"}},
    },
}
ERROR_DESCRIPTIONS = {
    400: "Bad request: the body is not JSON, or a rule refuses the input (`code` says which).",
    401: "No session and no valid token (`unauthorized`, `token_unknown`, `token_expired`, `token_revoked`).",
    403: "Refused: the role may not (`forbidden`); a machine client asked for a person's act "
    "(`person_required`, R-SEC-02); a critical action without a recent second factor (`step_up_required`); "
    "a session call without its CSRF token.",
    404: "Not found, or outside the caller's jurisdiction (the same answer, R-SEC-01).",
    409: "Conflict: someone acted first, the state does not allow it, or the key was used for another body.",
    413: "The body is too large.",
    422: "Invalid input: a parameter or field out of its type or range, control characters (NUL…), "
    "JSON nested too deep, a non-finite number, an over-long Idempotency-Key (`errors` lists the fields).",
}


def _error_codes(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    # 404: any path, query or body value naming a unit, record, form… missing or outside the jurisdiction.
    codes = [400, 404, 422]
    if operation.get("security", True) != []:
        codes += [401, 403]
    if method in ("post", "put", "patch", "delete"):
        codes.append(409)
    return codes


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the error answers every operation can give (by the classes above) to its `responses`."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR_SCHEMA)
    ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in _error_codes(path, method, operation):
                responses.setdefault(
                    str(code),
                    {
                        "description": ERROR_DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": ref}},
                    },
                )
    return schema


# OpenAPI links: where one answer names the next resource (clients and schemathesis' stateful tests follow them).
# (method, path, status) -> {link name: (target operationId, {parameter: runtime expression})}
LINKS: dict[tuple[str, str, str], dict[str, tuple[str, dict[str, str]]]] = {
    ("post", "/api/v1/children", "201"): {
        "GetChangeRequest": (
            "mchis_registry_api_change_requests_detail",
            {"request_id": "$response.body#/id"},
        ),
    },
    ("post", "/api/v1/children/{child_id}/change-requests", "201"): {
        "GetChangeRequest": (
            "mchis_registry_api_change_requests_detail",
            {"request_id": "$response.body#/id"},
        ),
    },
    ("post", "/api/v1/children/{child_id}/delete-requests", "201"): {
        "GetChangeRequest": (
            "mchis_registry_api_change_requests_detail",
            {"request_id": "$response.body#/id"},
        ),
    },
    ("post", "/api/v1/registers/{register}/records", "202"): {
        "GetJob": ("mchis_registers_api_job_get", {"job_id": "$response.body#/jobId"}),
    },
    ("get", "/api/v1/children", "200"): {
        "GetChild": ("mchis_registry_api_children_detail", {"child_id": "$response.body#/items/0/id"}),
        "GetHistory": ("mchis_registry_api_children_history", {"child_id": "$response.body#/items/0/id"}),
    },
}


def add_links(schema: dict[str, Any]) -> dict[str, Any]:
    paths = schema.get("paths", {})
    for (method, path, status), links in LINKS.items():
        responses = paths.get(path, {}).get(method, {}).get("responses", {})
        response = responses.get(status) or responses.get(int(status))
        if response is None:
            continue
        response["links"] = {
            name: {"operationId": operation_id, "parameters": parameters}
            for name, (operation_id, parameters) in links.items()
        }
    return schema


class MchisAPI(NinjaAPI):
    """Our NinjaAPI: its OpenAPI documents every error answer of every operation (`document_errors`) and
    the links between operations (`LINKS`)."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return add_links(document_errors(schema))
