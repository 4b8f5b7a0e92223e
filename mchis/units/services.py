"""Writes to the reporting-unit tree. Every change is audited in the same transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from mchis.core.audit import log_event
from mchis.core.errors import DomainError

from .models import ReportingUnit, UnitPlacement

# Placements of the bootstrap tree start here so that any past period can be reported.
BEGINNING = date(2000, 1, 1)


@transaction.atomic
def unit_create(
    *,
    actor: Any,
    code: str,
    name: str,
    kind: str,
    admin_unit: Any,
    parent: ReportingUnit | None,
    valid_from: date = BEGINNING,
) -> ReportingUnit:
    if ReportingUnit.objects.filter(code=code).exists():
        raise DomainError(f"Mã đơn vị '{code}' đã tồn tại.", field="code", code="duplicate")
    unit = ReportingUnit(code=code, name=name, kind=kind, admin_unit=admin_unit, parent=parent, path="")
    unit.depth = (parent.depth + 1) if parent else 0
    unit.path = f"/new-{code}/"  # unique placeholder until the id is known
    unit.save()
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    UnitPlacement.objects.create(unit=unit, parent=parent, path=unit.path, valid_from=valid_from)
    log_event(
        actor=actor,
        action="unit.create",
        object_type="unit",
        object_id=unit.code,
        scope_path=unit.path,
        changes={
            "name": [None, name],
            "kind": [None, kind],
            "parent": [None, parent.code if parent else None],
        },
    )
    return unit
