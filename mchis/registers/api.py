"""Registers API (R-INT-01): bulk upsert for facility software, record lists, JSON schemas, async jobs.

Batch policy: a malformed batch (bad JSON, not a list of objects, > 5,000 records, duplicate source IDs) is
refused whole (400/422, nothing written); otherwise valid records are written and each invalid one is listed
in `conflicts` with its index, field and reason (DHIS2-style import summary).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from mchis.accounts.permissions import require
from mchis.accounts.signatures import verify_submission
from mchis.core.api import BoundedLimitOffsetPagination
from mchis.core.errors import DomainError
from mchis.core.http import ApiRequest
from mchis.core.inputs import InputRejected, clean_idempotency_key, parse_json_body
from mchis.units.selectors import unit_get_visible

from . import selectors, services
from .definitions import REGISTERS, get_register
from .schemas import record_json_schema
from .serializers import record_to_dict

router = Router(tags=["registers"])


MAX_BODY_BYTES = 64 * 1024 * 1024
IDEMPOTENCY_KEY_MAX = 200  # IngestBatch.idempotency_key


class RegisterOut(Schema):
    key: str = Field(examples=["delivery"])
    label: str = Field(examples=["Sổ đẻ"])
    schema_url: str = Field(examples=["/api/v1/registers/delivery/schema"])
    records_url: str = Field(examples=["/api/v1/registers/delivery/records"])


class ConflictOut(Schema):
    index: int | None = Field(examples=[3])
    field: str = Field(examples=["event_date"])
    reason: str = Field(examples=["Ngày: không được ở tương lai."])


class ImportSummary(Schema):
    status: str = Field(
        examples=["WARNING"], description="OK | WARNING (some rejected) | ERROR (all rejected)"
    )
    dryRun: bool = Field(examples=[False])  # DHIS2-style JSON names
    batchId: str | None = Field(default=None, examples=["5f0c…"])
    total: int = Field(examples=[1000])
    created: int = Field(examples=[990])
    imported: int = Field(examples=[990], description="= created (DHIS2 naming)")
    updated: int = Field(examples=[5])
    unchanged: int = Field(examples=[4])
    rejected: int = Field(examples=[1])
    ignored: int = Field(examples=[1], description="= rejected (DHIS2 naming)")
    conflicts: list[ConflictOut]


class JobOut(Schema):
    jobId: str
    status: str = Field(examples=["queued"], description="queued | running | success | warning | error")
    receivedAt: str | None = None
    finishedAt: str | None = None
    summary: dict[str, Any] | None = None


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None
    errors: list[dict[str, Any]] | None = None


EXAMPLE_BATCH = [
    {
        "facility": "TYT02269",
        "source_system": "his-benhvien",
        "source_record_id": "KT-2026-000123",
        "event_date": "2026-03-10",
        "full_name": "Trần Thị Hoa",
        "dob": "2001-05-01",
        "ethnicity_code": "02",
        "personal_id": "008301001234",
        "is_new_pregnancy": True,
        "gestational_age_weeks": 10,
        "urine_protein_tested": True,
    }
]


@router.get("", response=list[RegisterOut], summary="Danh sách sổ và lược đồ JSON")
def registers_index(request: ApiRequest) -> list[dict[str, str]]:
    require(request.auth, "register.view")
    return [
        {
            "key": key,
            "label": reg.label,
            "schema_url": f"/api/v1/registers/{key}/schema",
            "records_url": f"/api/v1/registers/{key}/records",
        }
        for key, reg in REGISTERS.items()
    ]


@router.get(
    "/jobs/{job_id}",
    response={200: JobOut, 404: ErrorOut},
    summary="Trạng thái một lô xử lý nền (?async=true)",
)
def job_get(request: ApiRequest, job_id: UUID) -> dict[str, Any]:
    batch = selectors.batch_get(principal=request.auth, batch_id=str(job_id))
    return services.job_status(batch)


@router.get(
    "/{register}/schema",
    response={200: dict[str, Any], 404: ErrorOut},
    summary="Lược đồ JSON của một bản ghi trong sổ",
)
def register_schema(request: ApiRequest, register: str) -> Any:
    if register not in REGISTERS:
        return Status(404, {"code": "not_found", "message": f"Không có sổ '{register}'."})
    return Status(200, record_json_schema(register))


@router.get(
    "/{register}/records",
    response={200: list[dict[str, Any]], 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Bản ghi của sổ theo cơ sở và tháng (theo phạm vi)",
)
@paginate(BoundedLimitOffsetPagination)
def records_get(
    request: ApiRequest,
    register: str,
    unit: str | None = None,
    # ninja types Query as a generic alias for annotations; called here for the constraints
    month: str | None = Query(None, pattern=r"^\d{4}-\d{2}$", description="YYYY-MM"),  # type: ignore[type-arg]
    q: str | None = Query(None, max_length=100),  # type: ignore[type-arg]
) -> Any:
    require(request.auth, "register.view")
    get_register(register)
    unit_obj = None
    if unit:
        unit_obj = unit_get_visible(request.auth, unit)
    month_day = None
    if month:
        try:
            month_day = date(int(month[:4]), int(month[5:7]), 1)
        except ValueError as exc:
            raise DomainError("Tháng phải theo dạng YYYY-MM.", field="month") from exc
    qs = selectors.records_list(
        principal=request.auth, register=register, unit=unit_obj, month=month_day, q=q or ""
    )
    return _SerializedQuerySet(qs)


class _SerializedQuerySet:
    """Lets the paginator slice the queryset, then turns only the page into dicts."""

    def __init__(self, qs: Any) -> None:
        self.qs = qs

    def __getitem__(self, item: slice) -> list[dict[str, Any]]:
        return [record_to_dict(obj) for obj in self.qs[item]]

    def count(self) -> int:
        return int(self.qs.count())

    def __len__(self) -> int:
        return self.count()


BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "array", "maxItems": 5000, "items": {"type": "object"}},
                        {
                            "type": "object",
                            "required": ["records"],
                            "properties": {
                                "records": {"type": "array", "maxItems": 5000, "items": {"type": "object"}}
                            },
                        },
                    ]
                },
                "examples": {"batch": {"value": {"records": EXAMPLE_BATCH}}},
            }
        },
    },
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": IDEMPOTENCY_KEY_MAX, "pattern": "^[!-~]+$"},
            "description": "Same key + same body → the stored answer; same key + other body → 409.",
        }
    ],
}


@router.post(
    "/{register}/records",
    response={
        200: ImportSummary,
        202: JobOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        413: ErrorOut,
        422: ErrorOut,
    },  # fmt: skip
    summary="Gửi một lô bản ghi (upsert theo source_system + source_record_id)",
    description=__doc__,
    openapi_extra=BATCH_BODY,
)
def records_post(
    request: ApiRequest,
    register: str,
    dryRun: bool = False,
    async_: bool = Query(False, alias="async"),  # type: ignore[type-arg]  # see records_get
) -> Any:
    require(request.auth, "register.write")
    get_register(register)
    # Read the stream ourselves: Django's 2.5 MB form-data cap is too small for 5,000 records, and the cap here
    # keeps memory bounded whatever Content-Length claims.
    body = getattr(request, "_body", None)
    if body is None:
        body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return Status(413, {"code": "too_large", "message": "Lô dữ liệu quá lớn (tối đa 64 MB)."})
    verify_submission(
        request, request.auth, body
    )  # 401 when a machine client's signature is missing or wrong
    # The input middleware has usually parsed and checked this JSON already (core.inputs): reuse it.
    parsed = getattr(request, "_mchis_json", None)
    try:
        payload = parsed if parsed is not None else parse_json_body(body or b"null")
    except InputRejected as exc:
        return Status(422, {"code": exc.code, "message": exc.message, "field": exc.field})
    except ValueError as exc:
        return Status(400, {"code": "malformed_json", "message": f"JSON không hợp lệ: {exc}."})
    records = payload.get("records") if isinstance(payload, dict) else payload
    if isinstance(payload, dict) and "records" not in payload:
        return Status(
            400,
            {
                "code": "malformed",
                "message": "Thiếu trường 'records' (danh sách bản ghi).",
                "field": "records",
            },
        )
    try:
        key = (
            clean_idempotency_key(request.headers.get("Idempotency-Key"), max_length=IDEMPOTENCY_KEY_MAX)
            or ""
        )
    except InputRejected as exc:
        return Status(422, {"code": exc.code, "message": exc.message, "field": exc.field})
    # Only a replay compares fingerprints, and only a batch with a key can be replayed.
    fingerprint = services.request_fingerprint(register, body, dryRun, async_, parsed=payload) if key else ""
    status, out = services.batch_ingest(
        actor=request.auth,
        register=register,
        records=records,
        dry_run=dryRun,
        run_async=async_,
        idempotency_key=key,
        request_hash=fingerprint,
    )
    return Status(status, out)


class VoidIn(Schema):
    reason: str = Field(min_length=1, max_length=500, examples=["Nhập trùng với bản ghi D-17"])


class VoidOut(Schema):
    id: int = Field(examples=[42])
    source_record_id: str = Field(examples=["D-1"])
    voided_at: datetime
    void_reason: str = Field(examples=["Nhập trùng với bản ghi D-17"])


@router.delete(
    "/{register}/records/{record_id}",
    response={200: VoidOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Hủy một bản ghi (có lý do): giữ trong lịch sử, không còn được tính trong mọi báo cáo",
    description="409 `already_voided` khi bản ghi đã bị hủy; 409 `period_locked` khi tháng của bản ghi đã "
    "được duyệt và khóa; 404 khi bản ghi không có hoặc ngoài phạm vi quản lý.",
)
def record_delete(request: ApiRequest, register: str, record_id: int, payload: VoidIn) -> Any:
    verify_submission(request, request.auth, request.body)
    record = services.record_void(
        actor=request.auth, register=register, record_id=record_id, reason=payload.reason
    )
    return VoidOut(
        id=record.pk,
        source_record_id=record.source_record_id,
        voided_at=record.voided_at,
        void_reason=record.void_reason,
    )
