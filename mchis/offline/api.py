"""Offline entry API (docs/offline.md): a station's device sends its queued entries, asks their fates, takes
its reference data and its device key. Session only (a person's device): a machine token is refused."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from ninja import Router, Schema
from pydantic import Field

from mchis.accounts.permissions import require_person
from mchis.accounts.principals import person_of
from mchis.core.errors import DomainError
from mchis.core.http import ApiRequest

from . import selectors, services
from .models import ItemKind, ItemStatus, OfflineItem

router = Router(tags=["offline"])


class EntryIn(Schema):
    client_id: UUID = Field(description="The id the browser gave the entry when it was queued")
    kind: ItemKind
    fields: dict[str, Any] = Field(description="The form's fields as typed (names of the web form)")
    register: str = Field("", max_length=32)
    child: str = Field("", max_length=40, description="Child public id (change proposals)")
    base_version: int | None = Field(None, ge=0, description="The record version the change was made on")
    queued_at: datetime | None = None
    record: int | None = Field(None, ge=1, description="Register edits: the record's id")
    base_hash: str = Field("", max_length=64, description="Register edits: the record's row_hash when opened")
    base_fields: dict[str, Any] | None = Field(
        None, description="Register edits: the form's fields as opened (shown as the base of a conflict)"
    )


class SyncIn(Schema):
    items: list[EntryIn] = Field(max_length=services.MAX_ITEMS)
    waiting: int = Field(0, ge=0, le=1_000_000, description="Entries the device holds, these included")


class FateOut(Schema):
    client_id: UUID
    status: str = Field(description="accepted | conflict | rejected")
    label: str
    message: str = ""
    errors: list[dict[str, Any]] = []
    object_ref: str = ""
    url: str = ""
    decision: str = Field("", description="For a child proposal: its state now (pending, approved…)")


class SyncOut(Schema):
    items: list[FateOut]
    synced_at: datetime


class StatusIn(Schema):
    ids: list[UUID] = Field(max_length=500)


class KeyOut(Schema):
    key: str = Field(description="AES-GCM 256-bit key, base64; import it as non-extractable")
    user: int


def _fate(item: OfflineItem, request_state: Any = None) -> dict[str, Any]:
    url, decision = "", ""
    if item.kind in (ItemKind.CHILD_CREATE, ItemKind.CHILD_CHANGE) and item.object_ref:
        url = f"/children/requests/{item.object_ref}/"
        if request_state is not None:
            decision = "conflict" if request_state.has_open_conflict else str(request_state.status)
    if item.kind == ItemKind.REGISTER_EDIT and item.object_ref:
        kind, _, ref = item.object_ref.partition(":")
        url = f"/offline/conflicts/records/{ref}/" if kind == "conflict" else f"/registers/{kind}/{ref}/"
    status = item.status
    if status == ItemStatus.CONFLICT and decision and decision != "conflict":
        status = ItemStatus.ACCEPTED  # the leader resolved it: it is an ordinary proposal now
    return {
        "client_id": item.client_id,
        "status": status,
        "label": str(ItemStatus(status).label),
        "message": item.message,
        "errors": item.errors,
        "object_ref": item.object_ref,
        "url": url,
        "decision": decision,
    }


def _fates(request: ApiRequest, items: list[OfflineItem]) -> list[dict[str, Any]]:
    states = selectors.request_states(request.auth, [i.object_ref for i in items if i.object_ref])
    return [_fate(i, states.get(i.object_ref)) for i in items]


@router.post("/sync", response=SyncOut, summary="Gửi các mục đã nhập ngoại tuyến (theo thứ tự)")
def offline_sync(request: ApiRequest, payload: SyncIn) -> dict[str, Any]:
    """Each entry is handled in order and answered with its fate. The same `client_id` sent again (a lost
    answer, a retry) returns the stored fate: nothing is created twice. A rejected entry may be fixed and sent
    again under the same id."""
    done, sync = services.offline_sync(
        actor=request.auth,
        entries=[
            services.Entry(
                client_id=e.client_id,
                kind=e.kind,
                fields=e.fields,
                register=e.register,
                child=e.child,
                base_version=e.base_version,
                queued_at=e.queued_at,
                record=e.record,
                base_hash=e.base_hash,
                base_fields=e.base_fields,
            )
            for e in payload.items
        ],
        waiting=payload.waiting,
    )
    return {"items": _fates(request, done), "synced_at": sync.last_success_at}


@router.post("/status", response=list[FateOut], summary="Tình trạng các mục đã gửi")
def offline_status(request: ApiRequest, payload: StatusIn) -> list[dict[str, Any]]:
    require_person(request.auth)
    return _fates(request, selectors.items_of(request.auth, list(payload.ids)))


@router.get("/key", response=KeyOut, summary="Khóa mã hóa bản sao trên thiết bị")
def offline_key(request: ApiRequest) -> dict[str, Any]:
    """Released to the signed-in person only; the browser imports it as a non-extractable AES-GCM key."""
    require_person(request.auth)
    person = person_of(request.auth)
    if person is None:
        raise DomainError("Chỉ người dùng mới nhận được khóa thiết bị.")
    return {"key": selectors.device_key(request.auth), "user": person.pk}


@router.get(
    "/reference", response=dict[str, Any], summary="Dữ liệu tham chiếu của đơn vị cho nhập ngoại tuyến"
)
def offline_reference(request: ApiRequest) -> HttpResponse:
    """Compact UTF-8 JSON (no \\u escapes, no spaces): a commune's 2,000 children are about half the size."""
    require_person(request.auth)
    body = json.dumps(
        selectors.reference_data(request.auth),
        ensure_ascii=False,
        separators=(",", ":"),
        cls=DjangoJSONEncoder,
    )
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Cache-Control"] = "no-store"  # personal data: the device keeps its own encrypted copy
    return response
