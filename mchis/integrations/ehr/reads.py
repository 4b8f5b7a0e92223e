"""FHIR reads (`GET /api/v1/fhir/{type}/{id}`): the same resources the warehouse receives, built from the
rows the principal may see (scoped like every read; missing and foreign are the same 404)."""

from __future__ import annotations

import re
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from mchis.core.scoping import visible_to
from mchis.registers.models import AncVisit, ChildExam, Contraception, Death, Delivery, Newborn
from mchis.registry.models import Child

from . import fhir
from .codes import CANONICAL, NAMING_SYSTEM_ID, PERSONAL_ID_SYSTEM, PROFILE

READABLE = ("Patient", "Encounter", "Observation")
_ENCOUNTER_PREFIX = {
    "anc": (AncVisit, fhir.anc_resources),
    "child-exam": (ChildExam, fhir.child_exam_resources),
    "contraception": (Contraception, fhir.contraception_resources),
    "death": (Death, fhir.death_resources),
}
_REGISTER_OF = {"anc": AncVisit, "child-exam": ChildExam, "contraception": Contraception, "death": Death}
_ID = re.compile(r"^(?P<prefix>[a-z]+(?:-[a-z]+)?|pnc[12])-(?P<pk>[0-9]{1,18})(?:-(?P<part>[a-z0-9]+))?$")


def _delivery(principal: Any, pk: int) -> list[dict[str, Any]]:
    row = (
        visible_to(Delivery.objects.filter(pk=pk), principal)
        .select_related("facility")
        .prefetch_related("newborns")
        .first()
    )
    return fhir.delivery_resources(row, row.newborns.all()) if row else []


def _by_record(principal: Any, prefix: str, pk: int) -> list[dict[str, Any]]:
    if prefix in ("delivery", "pnc1", "pnc2"):
        return _delivery(principal, pk)
    if prefix in _ENCOUNTER_PREFIX:
        model, build = _ENCOUNTER_PREFIX[prefix]
        row = visible_to(model.objects.filter(pk=pk), principal).select_related("facility").first()
        return build(row) if row else []
    return []


def _patient_resources(principal: Any, rid: str) -> list[dict[str, Any]]:
    if rid.startswith("pid-"):
        pid = rid[4:]
        if not pid.isdigit():
            return []
        child = visible_to(Child.objects.filter(personal_id=pid), principal).order_by("-updated_at").first()
        if child is not None:
            return fhir.registry_child_resources(child)
        for model, build in _ENCOUNTER_PREFIX.values():
            row = (
                visible_to(model.objects.filter(personal_id=pid), principal)
                .select_related("facility")
                .order_by("-event_date", "-id")
                .first()
            )
            if row is not None:
                return build(row)
        row = visible_to(Delivery.objects.filter(personal_id=pid), principal).order_by("-event_date").first()
        if row is not None:
            return _delivery(principal, row.pk)
        baby = visible_to(Newborn.objects.filter(personal_id=pid), principal).first()
        return _delivery(principal, baby.delivery_id) if baby else []
    if rid.startswith("child-"):
        child = (
            visible_to(Child.objects.filter(public_id=rid[6:]), principal).first() if len(rid) == 42 else None
        )
        return fhir.registry_child_resources(child) if child else []
    if rid.startswith("nb-") and rid[3:].isdigit():
        baby = visible_to(Newborn.objects.filter(pk=int(rid[3:])), principal).first()
        return _delivery(principal, baby.delivery_id) if baby else []
    match = re.fullmatch(r"rec-([a-z]+(?:-[a-z]+)?)-([0-9]{1,18})", rid)
    if match and match.group(1) in ("anc", "delivery", "child-exam", "contraception", "death"):
        return _by_record(principal, match.group(1), int(match.group(2)))
    return []


def fhir_read(principal: Any, resource_type: str, rid: str) -> dict[str, Any] | None:
    """The resource, validated, or None (unknown, malformed or outside the principal's jurisdiction)."""
    if resource_type not in READABLE or len(rid) > 64:
        return None
    if resource_type == "Patient":
        candidates = _patient_resources(principal, rid)
    else:
        match = _ID.match(rid)
        candidates = _by_record(principal, match.group("prefix"), int(match.group("pk"))) if match else []
    for res in candidates:
        if res["resourceType"] == resource_type and res["id"] == rid:
            return fhir.validate(res)
    return None


def capability_statement(base_url: str) -> dict[str, Any]:
    statement = {
        "resourceType": "CapabilityStatement",
        "id": "mchis",
        "url": f"{CANONICAL}/CapabilityStatement/mchis",
        "name": "MchisFhirServer",
        "title": "Hệ thống thông tin SKBMTE/SKSS - FHIR R4 (đọc)",
        "status": "active",
        "date": "2026-11-30",
        "publisher": "Bộ Y tế - Vụ Sức khỏe Bà mẹ - Trẻ em",
        "kind": "instance",
        "implementation": {"description": "mchis FHIR read API", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "implementationGuide": ["http://smart.who.int/anc"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Đọc theo id; phạm vi theo đơn vị của tài khoản hoặc token. Định danh cá nhân: "
                    f"NamingSystem {NAMING_SYSTEM_ID}, system {PERSONAL_ID_SYSTEM}."
                ),
                "security": {
                    "description": "Cookie phiên (người dùng) hoặc Authorization: Bearer <token> (máy khách)."
                },
                "resource": [
                    {"type": rtype, "profile": PROFILE[rtype], "interaction": [{"code": "read"}]}
                    for rtype in READABLE
                ],
            }
        ],
    }
    get_fhir_model_class("CapabilityStatement").model_validate(statement)
    return statement
