"""The register entry form's posted fields → a record's raw values (the web page and the offline outbox's
queued entries go through the same reading)."""

from __future__ import annotations

from typing import Any

from mchis.core.inputs import InputRejected

from .definitions import MAX_NEWBORNS, NEWBORN_FIELDS, RegisterDef

NEWBORN_FORM_SLOTS = 2


def _newborn_slots(raw: str | None) -> int:
    """How many newborn blocks the form posted: 0..MAX_NEWBORNS, else a 422 (never a loop of a million)."""
    if raw in (None, ""):
        return NEWBORN_FORM_SLOTS
    if not raw.isdigit() or int(raw) > MAX_NEWBORNS:
        raise InputRejected(f"newborn_slots: phải là số từ 0 đến {MAX_NEWBORNS}.", field="newborn_slots")
    return int(raw)


def form_data(reg: RegisterDef, post: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for spec in reg.all_fields:
        if spec.kind == "bool":
            data[spec.name] = spec.name in post
        elif spec.name in post:
            data[spec.name] = post.get(spec.name)
    if reg.newborns:
        newborns = []
        for slot in range(_newborn_slots(post.get("newborn_slots"))):
            prefix = f"nb{slot}_"
            nb = {}
            for spec in NEWBORN_FIELDS:
                key = prefix + spec.name
                if spec.kind == "bool":
                    if key in post:
                        nb[spec.name] = True
                elif post.get(key):
                    nb[spec.name] = post.get(key)
            if nb:
                newborns.append(nb)
        data["newborns"] = newborns
    return data
