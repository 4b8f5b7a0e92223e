"""The integrations API: FHIR reads and CapabilityStatement, the handbook feed and consents, our public keys.

- `GET /api/v1/fhir/metadata`, `GET /api/v1/fhir/{Patient|Encounter|Observation}/{id}` (application/fhir+json)
- `GET /api/v1/handbook/feed?since=…&limit=…` (the handbook app's token; ETag / If-None-Match; signed)
- `POST /api/v1/handbook/consents`, `POST /api/v1/handbook/consents/withdraw` (a facility user)
- `GET /api/v1/exchanges/jwks` (public: what receivers verify our signatures with)
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from mchis.accounts.permissions import require
from mchis.units.selectors import unit_get_visible

from .ehr.reads import capability_statement, fhir_read
from .exchange import keys, signing
from .handbook import feed, services

router = Router(tags=["integrations"])
FHIR_JSON = "application/fhir+json"
# FHIR answers (the resource, or an OperationOutcome) are application/fhir+json; the API's own refusals (401 before
# the handler) stay application/json: the OpenAPI names both.
FHIR_DOC = {
    "responses": {
        str(code): {"description": desc, "content": {t: {"schema": {"type": "object"}} for t in (FHIR_JSON, "application/json")}}
        for code, desc in ((200, "FHIR resource"), (401, "OperationOutcome"), (403, "OperationOutcome"),
                           (404, "OperationOutcome"), (422, "OperationOutcome"))
    }
}  # fmt: skip


def _principal(request: HttpRequest) -> Any:
    return getattr(request, "auth", None)


def _fhir(body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=FHIR_JSON)


def _not_found(rtype: str) -> HttpResponse:
    """The same answer for missing and foreign ids (the id is not echoed: it may be another province's)."""
    return _fhir(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "not-found", "diagnostics": f"Không tìm thấy {rtype}."}],
        },
        404,
    )


@router.get("/fhir/metadata", auth=None, openapi_extra=FHIR_DOC, summary="FHIR CapabilityStatement (public)")
def fhir_metadata(request: HttpRequest) -> HttpResponse:
    return _fhir(capability_statement(request.build_absolute_uri("/api/v1/fhir")))


def _read(request: HttpRequest, rtype: str, resource_id: str) -> HttpResponse:
    principal = _principal(request)
    require(principal, "register.view")
    found = fhir_read(principal, rtype, resource_id)
    return _fhir(found) if found is not None else _not_found(rtype)


@router.get("/fhir/Patient/{resource_id}", openapi_extra=FHIR_DOC, summary="FHIR Patient by id (scoped)")
def fhir_patient(request: HttpRequest, resource_id: str) -> HttpResponse:
    return _read(request, "Patient", resource_id)


@router.get("/fhir/Encounter/{resource_id}", openapi_extra=FHIR_DOC, summary="FHIR Encounter by id (scoped)")
def fhir_encounter(request: HttpRequest, resource_id: str) -> HttpResponse:
    return _read(request, "Encounter", resource_id)


@router.get(
    "/fhir/Observation/{resource_id}", openapi_extra=FHIR_DOC, summary="FHIR Observation by id (scoped)"
)
def fhir_observation(request: HttpRequest, resource_id: str) -> HttpResponse:
    return _read(request, "Observation", resource_id)


class FeedQuery(Schema):
    since: int = Field(0, ge=0, description="cursor of the previous page (0 = from the start)")
    limit: int = Field(100, ge=1, le=feed.MAX_PAGE)


@router.get("/handbook/feed", summary="e-MCH handbook feed: timelines of consenting persons after a cursor")
def handbook_feed(request: HttpRequest, query: Query[FeedQuery]) -> HttpResponse:
    principal = _principal(request)
    require(principal, "handbook.view")
    page = feed.handbook_feed_page(principal=principal, since=query.since, limit=query.limit)
    if request.headers.get("If-None-Match") == page.etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(page.body, content_type="application/json; charset=utf-8")
        response[signing.HEADER] = signing.sign_detached(
            page.body, private_jwk=keys.active_private_jwk(), audience="handbook"
        )
    response["ETag"] = page.etag
    return response


class ConsentIn(Schema):
    personal_id: str = Field(examples=["008195000123"], description="12 chữ số")
    unit_code: str | None = Field(None, examples=["TYT02269"], description="mặc định: đơn vị của bạn")


class WithdrawIn(Schema):
    personal_id: str = Field(examples=["008195000123"])
    reason: str = Field("", max_length=300)


class ConsentOut(Schema):
    personal_id: str
    unit: str
    given_at: str
    withdrawn_at: str | None


def _consent_out(consent: Any) -> dict[str, Any]:
    return {
        "personal_id": consent.personal_id,
        "unit": consent.unit.code,
        "given_at": consent.given_at.isoformat(),
        "withdrawn_at": consent.withdrawn_at.isoformat() if consent.withdrawn_at else None,
    }


@router.post(
    "/handbook/consents", response={201: ConsentOut}, summary="Record consent to share with the handbook"
)
def handbook_consent_give(request: HttpRequest, body: ConsentIn) -> Any:
    principal = _principal(request)
    unit = unit_get_visible(principal, body.unit_code) if body.unit_code else None
    consent = services.handbook_consent_give(actor=principal, personal_id=body.personal_id, unit=unit)
    return Status(201, _consent_out(consent))


@router.post("/handbook/consents/withdraw", response=ConsentOut, summary="Withdraw consent (leaves the feed)")
def handbook_consent_withdraw(request: HttpRequest, body: WithdrawIn) -> dict[str, Any]:
    consent = services.handbook_consent_withdraw(
        actor=_principal(request), personal_id=body.personal_id, reason=body.reason
    )
    return _consent_out(consent)


@router.get("/exchanges/jwks", auth=None, summary="Our public signing keys (JWKS, public)")
def exchange_jwks(request: HttpRequest) -> dict[str, Any]:
    return keys.public_jwks()
