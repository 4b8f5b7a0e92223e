"""/api/v1/children… and /api/v1/change-requests… — thin: scoping, permission, service, schema."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import create_model

from mchis.accounts.permissions import require
from mchis.core.api import Limit, Offset
from mchis.core.http import ApiRequest
from mchis.core.inputs import clean_idempotency_key
from mchis.units.selectors import unit_get_visible

from . import selectors, services, validation
from .models import ChangeRequest, Child, ChildVersion

router = Router(tags=["registry"])


class PersonOut(Schema):
    name: str
    date_of_birth: date | None
    personal_id: str


class ChildListItem(Schema):
    id: UUID = Field(..., examples=["3f0c7a4e-6a51-4f1e-9b7f-6c2b1f1d2a10"])
    full_name: str = Field(..., examples=["Nguyễn Văn An"])
    date_of_birth: date | None
    sex: str = Field(..., examples=["M"])
    personal_id: str = Field(..., examples=["008218000123"])
    village: str
    father_name: str = Field(..., examples=["Nguyễn Văn Bình"])
    mother_name: str = Field(..., examples=["Trần Thị Cúc"])
    guardian_name: str
    unit: str = Field(..., examples=["TYT02269"])
    status: str


class ChildOut(ChildListItem):
    ethnicity_code: str
    address_detail: str
    father: PersonOut
    mother: PersonOut
    guardian: PersonOut
    guardian_relationship: str
    version: int
    merged_into: UUID | None = Field(
        None, description="Set when this record was merged: the surviving record"
    )
    deleted_reason: str
    id_verified: bool
    id_verified_at: datetime | None
    id_verification_result: str
    circumstances: list[dict[str, Any]]
    supports: list[dict[str, Any]]


class ChildPage(Schema):
    count: int = Field(..., description="Number of matches, counted up to 1,000")
    more: bool = Field(False, description="True when there are more than 1,000 matches")
    items: list[ChildListItem]


class EvidenceOut(Schema):
    sha256: str
    filename: str
    content_type: str
    size: int


class HistoryEntryOut(Schema):
    record: UUID = Field(..., description="The record this entry belongs to (differs after a merge)")
    version: int
    kind: str
    diff: dict[str, list[Any]] = Field(..., examples=[{"full_name": ["Nguyen Van An", "Nguyễn Văn An"]}])
    reason: str
    proposed_by: str
    proposed_at: datetime
    approved_by: str
    approved_at: datetime
    event_date: date | None
    entry_delay_days: int | None
    evidence: list[EvidenceOut]


# The child's fields come from `validation.FIELDS` (one field list, issue 11 item 5): each kind has its API type.
_API_TYPES: dict[str, tuple[Any, Any]] = {
    "text": (str, ""), "code": (str, ""), "pid": (str, ""), "sex": (str, ""),
    "date": (str | None, None), "int": (int | None, None), "list": (list[dict[str, Any]], []),
}  # fmt: skip
_API_EXTRA: dict[str, dict[str, Any]] = {
    "full_name": {"examples": ["Nguyễn Văn An"]},
    "date_of_birth": {"examples": ["12/03/2018"], "description": "dd/mm/yyyy or yyyy-mm-dd"},
    "sex": {"examples": ["M"], "description": "M (Nam) or F (Nữ)"},
}


def _child_field(name: str, kind: str) -> tuple[Any, Any]:
    kind_type, default = _API_TYPES[kind]
    if name in validation.REQUIRED:
        return (str, Field(..., **_API_EXTRA.get(name, {})))
    return (kind_type, Field(default, **_API_EXTRA.get(name, {})) if name in _API_EXTRA else default)


_CHILD_FIELDS: dict[str, Any] = {
    name: _child_field(name, kind) for name, (kind, _l) in validation.FIELDS.items()
}
ChildFieldsIn = create_model("ChildFieldsIn", __base__=Schema, **_CHILD_FIELDS)


class ChildCreateIn(ChildFieldsIn):  # type: ignore[misc,valid-type]
    unit: str = Field("", description="Reporting unit code; default: the caller's unit")
    reason: str = ""
    event_date: date | None = None
    acknowledge_warnings: bool = False
    client_key: str | None = Field(
        None, description="Client-generated key; the same key creates nothing twice"
    )
    not_duplicate_reason: str = Field(
        "",
        description="Required when the answer (422, code possible_duplicate) lists likely existing children",
    )


class ChangeIn(Schema):
    changes: dict[str, Any] = Field(..., examples=[{"mother_name": "Trần Thị Cúc"}])
    reason: str = Field(..., examples=["Sai tên mẹ theo giấy khai sinh"])
    event_date: date | None = None
    acknowledge_warnings: bool = False
    client_key: str | None = None


class DeleteIn(Schema):
    reason: str
    client_key: str | None = None


class MergeIn(Schema):
    survivor: UUID
    retired: UUID
    reason: str
    override_reason: str = Field(
        "", description="Required when the duplicate model scores the two records as clearly different"
    )


class DecisionIn(Schema):
    comment: str = ""
    not_duplicate_reason: str = Field("", description="Approving a new child that looks like existing ones")


class ChangeRequestOut(Schema):
    id: UUID
    kind: str
    status: str
    unit: str
    child: UUID | None
    survivor: UUID | None
    data: dict[str, Any]
    diff: dict[str, list[Any]]
    warnings: list[dict[str, Any]]
    reason: str
    event_date: date | None
    entry_delay_days: int | None
    proposer: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    comment: str


class QueuePage(Schema):
    count: int
    counts_by_kind: dict[str, int]
    items: list[ChangeRequestOut]


def _person(name: str, dob: date | None, pid: str) -> dict[str, Any]:
    return {"name": name, "date_of_birth": dob, "personal_id": pid}


def _list_item(child: Child) -> dict[str, Any]:
    return {
        "id": child.public_id,
        "full_name": child.full_name,
        "date_of_birth": child.date_of_birth,
        "sex": child.sex,
        "personal_id": child.personal_id,
        "village": str(child.village) if child.village_id else "",
        "father_name": child.father_name,
        "mother_name": child.mother_name,
        "guardian_name": child.guardian_name,
        "unit": child.unit.code,
        "status": child.status,
    }


def _child_out(child: Child) -> dict[str, Any]:
    snapshot = services.child_snapshot(child)
    return {
        **_list_item(child),
        "ethnicity_code": child.ethnicity_code,
        "address_detail": child.address_detail,
        "father": _person(child.father_name, child.father_dob, child.father_personal_id),
        "mother": _person(child.mother_name, child.mother_dob, child.mother_personal_id),
        "guardian": _person(child.guardian_name, child.guardian_dob, child.guardian_personal_id),
        "guardian_relationship": child.guardian_relationship,
        "version": child.version,
        "merged_into": child.merged_into.public_id if child.merged_into_id else None,  # type: ignore[union-attr]
        "deleted_reason": child.deleted_reason,
        "id_verified": child.id_verified,
        "id_verified_at": child.id_verified_at,
        "id_verification_result": child.id_verification_result,
        "circumstances": snapshot["circumstances"],
        "supports": snapshot["supports"],
    }


def _history_out(v: ChildVersion) -> dict[str, Any]:
    files = v.change_request.evidence.all() if v.change_request_id else []  # type: ignore[union-attr]
    return {
        "record": v.child.public_id,
        "version": v.version,
        "kind": v.kind,
        "diff": v.diff,
        "reason": v.reason,
        "proposed_by": v.proposed_by.username,
        "proposed_at": v.proposed_at,
        "approved_by": v.approved_by.username,
        "approved_at": v.approved_at,
        "event_date": v.event_date,
        "entry_delay_days": v.entry_delay_days,
        "evidence": [
            {"sha256": e.sha256, "filename": e.filename, "content_type": e.content_type, "size": e.size}
            for e in files
        ],
    }


def request_out(r: ChangeRequest) -> dict[str, Any]:
    return {
        "id": r.public_id,
        "kind": r.kind,
        "status": r.status,
        "unit": r.unit.code,
        "child": r.child.public_id if r.child_id else None,  # type: ignore[union-attr]
        "survivor": r.survivor.public_id if r.survivor_id else None,  # type: ignore[union-attr]
        "data": r.data,
        "diff": r.diff,
        "warnings": r.warnings,
        "reason": r.reason,
        "event_date": r.event_date,
        "entry_delay_days": r.entry_delay_days,
        "proposer": r.proposer.username,
        "proposed_at": r.proposed_at,
        "decided_by": r.decided_by.username if r.decided_by_id else None,  # type: ignore[union-attr]
        "decided_at": r.decided_at,
        "comment": r.comment,
    }


def _client_key(request: ApiRequest, body_key: str | None) -> str | None:
    return clean_idempotency_key(
        body_key or request.headers.get("Idempotency-Key"), max_length=services.CLIENT_KEY_MAX
    )


@router.get("/children", response=ChildPage, summary="Danh sách / tìm kiếm trẻ em")
def children_list(
    request: ApiRequest,
    q: str = "",
    unit: str = "",
    village: int | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    province: str = Query(  # type: ignore[type-arg]  # ninja types Query as a generic alias
        "", pattern=r"^(\d{2})?$", description="Mã tỉnh 2025 (2 chữ số): thu hẹp tìm kiếm của cấp trên tỉnh"
    ),
) -> dict[str, Any]:
    """Search by name without diacritics and in any case, DOB (dd/mm/yyyy), ID number, guardian; filter by
    unit code, village and province (a province outside the caller's scope finds nothing)."""
    require(request.auth, "child.view")
    # Counting every "nguyen" of a province is the slow part of a search: count up to 1,000 only, from the
    # same run of the search as the page (selectors.child_search_page).
    page = selectors.child_search_page(
        request.auth, q=q, unit_code=unit, village_id=village, limit=limit, offset=offset, province=province
    )
    return {"count": page.count, "more": page.more, "items": [_list_item(c) for c in page.items]}


@router.get(
    "/children/schema", response=dict[str, Any], summary="JSON Schema của hồ sơ trẻ em (nhập ngoại tuyến)"
)
def children_schema(request: ApiRequest) -> dict[str, Any]:
    """The structural rules of a child record (`validation.child_json_schema`, ADR 0043): what the offline form
    checks in the browser before queuing an entry. The server's own checks stay the ones that decide."""
    require(request.auth, "child.view")
    return validation.child_json_schema()


@router.get("/children/{child_id}", response=ChildOut, summary="Hồ sơ trẻ em")
def children_detail(request: ApiRequest, child_id: UUID) -> dict[str, Any]:
    """A merged record answers with `status: merged` and `merged_into` = the surviving record."""
    require(request.auth, "child.view")
    return _child_out(selectors.child_read(request.auth, child_id, channel="api"))


@router.get("/children/{child_id}/history", response=list[HistoryEntryOut], summary="Lịch sử thay đổi")
def children_history(request: ApiRequest, child_id: UUID) -> list[dict[str, Any]]:
    require(request.auth, "child.view")
    child = selectors.child_read(request.auth, child_id, channel="api-history")  # personal data: audited read
    return [_history_out(v) for v in selectors.child_history(child)]


@router.post("/children", response={201: ChangeRequestOut, 200: ChangeRequestOut}, summary="Đề xuất thêm trẻ")
def children_propose_create(request: ApiRequest, payload: ChildCreateIn) -> Status[dict[str, Any]]:
    """Creates a *create request* for a leader to approve (the record exists only after approval).

    Send the same `client_key` (or `Idempotency-Key` header) again and the existing request is returned (200).
    """
    actor = request.auth
    require(actor, "child.propose")  # permission before any idempotency lookup
    key = _client_key(request, payload.client_key)
    existed = selectors.request_key_used(actor, key)
    unit = actor.unit
    if payload.unit and (unit is None or payload.unit != unit.code):
        unit = unit_get_visible(actor, payload.unit)
    data = payload.dict(
        exclude={"unit", "reason", "event_date", "acknowledge_warnings", "client_key", "not_duplicate_reason"}
    )
    created = services.child_propose_create(
        actor=actor,
        unit=unit,
        data=data,
        reason=payload.reason,
        event_date=payload.event_date,
        client_key=key,
        acknowledge_warnings=payload.acknowledge_warnings,
        not_duplicate_reason=payload.not_duplicate_reason,
    )
    return Status(200 if existed else 201, request_out(created))


@router.post("/children/{child_id}/change-requests", response={201: ChangeRequestOut, 200: ChangeRequestOut})
def children_propose_change(request: ApiRequest, child_id: UUID, payload: ChangeIn) -> Status[dict[str, Any]]:
    """Đề xuất thay đổi: `changes` holds only the fields to change."""
    require(request.auth, "child.propose")  # permission and scope before any idempotency lookup
    child = selectors.child_get(request.auth, child_id)
    key = _client_key(request, payload.client_key)
    existed = selectors.request_key_used(request.auth, key)
    created = services.child_propose_change(
        actor=request.auth,
        child=child,
        changes=payload.changes,
        reason=payload.reason,
        event_date=payload.event_date,
        client_key=key,
        acknowledge_warnings=payload.acknowledge_warnings,
    )
    return Status(200 if existed else 201, request_out(created))


@router.post("/children/{child_id}/delete-requests", response={201: ChangeRequestOut})
def children_propose_delete(request: ApiRequest, child_id: UUID, payload: DeleteIn) -> Status[dict[str, Any]]:
    child = selectors.child_get(request.auth, child_id)
    created = services.child_propose_delete(
        actor=request.auth,
        child=child,
        reason=payload.reason,
        client_key=_client_key(request, payload.client_key),
    )
    return Status(201, request_out(created))


@router.post("/merge-requests", response={201: ChangeRequestOut}, summary="Đề xuất gộp hồ sơ trùng")
def merge_requests_create(request: ApiRequest, payload: MergeIn) -> Status[dict[str, Any]]:
    survivor = selectors.child_get(request.auth, payload.survivor)
    retired = selectors.child_get(request.auth, payload.retired)
    created = services.merge_request_create(
        actor=request.auth,
        survivor=survivor,
        retired=retired,
        reason=payload.reason,
        override_reason=payload.override_reason,
    )
    return Status(201, request_out(created))


@router.get("/change-requests", response=QueuePage, summary="Hàng chờ đề xuất")
def change_requests_list(
    request: ApiRequest, status: str = "pending", mine: bool = False, limit: Limit = 50
) -> dict[str, Any]:
    """Leaders: the pending requests of their unit. Collectors (or `mine=true`): their own requests."""
    require(request.auth, "child.view")
    actor = request.auth
    own = mine or actor.role == "collector"
    qs: QuerySet[ChangeRequest] = selectors.my_requests(actor) if own else selectors.requests_visible(actor)
    if status:
        qs = qs.filter(status=status)
    items = list(qs.order_by("proposed_at")[:limit])
    return {
        "count": qs.count(),
        "counts_by_kind": selectors.queue_counts(actor),
        "items": [request_out(r) for r in items],
    }


@router.get("/change-requests/{request_id}", response=ChangeRequestOut)
def change_requests_detail(request: ApiRequest, request_id: UUID) -> dict[str, Any]:
    require(request.auth, "child.view")
    return request_out(selectors.request_get(request.auth, request_id))


@router.post("/change-requests/{request_id}/approve", response=ChangeRequestOut, summary="Duyệt")
def change_requests_approve(request: ApiRequest, request_id: UUID, payload: DecisionIn) -> dict[str, Any]:
    """409 `already_decided` when another leader acted first; 403 `step_up_required` for delete/merge/change
    without a recent second-factor check."""
    req = selectors.request_get(request.auth, request_id)
    return request_out(
        services.change_request_approve(
            actor=request.auth,
            request=req,
            comment=payload.comment,
            not_duplicate_reason=payload.not_duplicate_reason,
        )
    )


@router.post("/change-requests/{request_id}/reject", response=ChangeRequestOut, summary="Từ chối")
def change_requests_reject(request: ApiRequest, request_id: UUID, payload: DecisionIn) -> dict[str, Any]:
    req = selectors.request_get(request.auth, request_id)
    return request_out(
        services.change_request_reject(actor=request.auth, request=req, comment=payload.comment)
    )


@router.post("/change-requests/{request_id}/return", response=ChangeRequestOut, summary="Trả lại để sửa")
def change_requests_return(request: ApiRequest, request_id: UUID, payload: DecisionIn) -> dict[str, Any]:
    req = selectors.request_get(request.auth, request_id)
    return request_out(
        services.change_request_return_for_correction(
            actor=request.auth, request=req, comment=payload.comment
        )
    )


class ResubmitIn(Schema):
    data: dict[str, Any] | None = Field(
        None, description="Create: the full corrected record; change: only the fields to change"
    )
    reason: str | None = None
    acknowledge_warnings: bool = False


@router.post("/change-requests/{request_id}/resubmit", response=ChangeRequestOut, summary="Sửa và gửi lại")
def change_requests_resubmit(request: ApiRequest, request_id: UUID, payload: ResubmitIn) -> dict[str, Any]:
    """The proposer corrects a returned request (returned → pending)."""
    req = selectors.request_get(request.auth, request_id)
    return request_out(
        services.change_request_resubmit(
            actor=request.auth,
            request=req,
            data=payload.data,
            reason=payload.reason,
            acknowledge_warnings=payload.acknowledge_warnings,
        )
    )


@router.post(
    "/change-requests/{request_id}/evidence", response={201: list[EvidenceOut]}, summary="Thêm minh chứng"
)
def change_requests_evidence(
    request: ApiRequest,
    request_id: UUID,
    files: list[UploadedFile] = File(...),  # type: ignore[type-arg]  # noqa: B008 - ninja API
) -> Status[list[dict[str, Any]]]:
    """PDF/JPEG/PNG (checked by content), at most EVIDENCE_MAX_BYTES each; stored by sha256."""
    from . import evidence as ev

    req = selectors.request_get(request.auth, request_id)
    stored = services.change_request_attach_evidence(
        actor=request.auth,
        request=req,
        files=[ev.EvidenceFile(f.name or "tep", f.read(ev.max_bytes() + 1)) for f in files],
    )
    return Status(
        201,
        [
            {"sha256": e.sha256, "filename": e.filename, "content_type": e.content_type, "size": e.size}
            for e in stored
        ],
    )


@router.get("/children/{child_id}/as-of/{day}", response=dict[str, Any], summary="Hồ sơ tại một ngày")
def children_as_of(request: ApiRequest, child_id: UUID, day: date) -> dict[str, Any]:
    """The record as it was at the end of `day` (reconstructed from the history); 404 before it existed."""

    require(request.auth, "child.view")
    child = selectors.child_read(request.auth, child_id, channel="api-as-of")
    snapshot = selectors.child_as_of(child, day)
    if snapshot is None:
        raise Http404("Hồ sơ chưa tồn tại vào ngày này.")
    return snapshot
