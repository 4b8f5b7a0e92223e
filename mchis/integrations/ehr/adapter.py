"""Outbox entries → one signed FHIR transaction Bundle per request to the EHR warehouse."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from mchis.outbox.models import OutboxEntry
from mchis.registers.models import AncVisit, ChildExam, Contraception, Death, Delivery
from mchis.registry.models import Child

from ..exchange import engine, transport
from . import fhir

NAME = "ehr"
TOPICS = (
    "register.anc",
    "register.delivery",
    "register.child_exam",
    "register.contraception",
    "register.death",
    "registry.child",
)
_MODELS: dict[str, Any] = {
    "AncVisit": (AncVisit, fhir.anc_resources),
    "ChildExam": (ChildExam, fhir.child_exam_resources),
    "Contraception": (Contraception, fhir.contraception_resources),
    "Death": (Death, fhir.death_resources),
}


def resources_for(object_type: str, ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The FHIR resources of each object (by id); a missing object has no key."""
    out: dict[int, list[dict[str, Any]]] = {}
    if object_type == "Delivery":
        rows = Delivery.objects.filter(pk__in=ids).select_related("facility").prefetch_related("newborns")
        for row in rows:
            out[row.pk] = fhir.delivery_resources(row, row.newborns.all())
    elif object_type == "Child":
        for child in Child.objects.filter(pk__in=ids):
            out[child.pk] = fhir.registry_child_resources(child)
    elif object_type in _MODELS:
        model, build = _MODELS[object_type]
        for row in model.objects.filter(pk__in=ids).select_related("facility"):
            out[row.pk] = build(row)
    return out


class EhrAdapter:
    name = NAME
    path = "/fhir"

    def build(self, entries: Sequence[OutboxEntry]) -> engine.Payload:
        by_type: dict[str, list[int]] = defaultdict(list)
        for entry in entries:
            by_type[entry.object_type].append(int(entry.object_id))
        built = {t: resources_for(t, ids) for t, ids in by_type.items()}
        resources: list[dict[str, Any]] = []
        missing: list[int] = []
        for entry in entries:
            found = built[entry.object_type].get(int(entry.object_id))
            if found is None:
                missing.append(entry.pk)
            else:
                resources.extend(found)
        if missing:
            raise engine.BuildFailed(missing, "bản ghi không còn tồn tại")
        key = f"{NAME}-{entries[0].pk}-{entries[-1].pk}"
        try:
            body = fhir.transaction_bundle(resources, entry_ids=[e.pk for e in entries], key=key)
        except fhir.InvalidResource as exc:
            if len(entries) == 1:
                raise engine.BuildFailed([entries[0].pk], str(exc)[:300]) from exc
            raise engine.BuildFailed([], str(exc)[:300]) from exc
        return engine.Payload(body=body, content_type="application/fhir+json")

    def receipts(self, entries: Sequence[OutboxEntry], answer: transport.Response) -> dict[int, Any]:
        """A transaction-response Bundle with one 2xx entry per request entry."""
        try:
            data = json.loads(answer.body)
        except ValueError as exc:
            raise engine.MalformedReceipt("biên nhận không phải JSON") from exc
        if not isinstance(data, dict) or data.get("type") != "transaction-response":
            raise engine.MalformedReceipt("biên nhận không phải Bundle transaction-response")
        statuses = [str((e.get("response") or {}).get("status", "")) for e in data.get("entry") or []]
        if not statuses or not all(s[:1] == "2" for s in statuses):
            raise engine.MalformedReceipt(f"biên nhận thiếu hoặc có mục lỗi: {statuses[:5]}")
        return {}
