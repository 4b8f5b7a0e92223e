"""/api/v1/units — the reporting-unit tree, scoped to the caller's subtree (R-ORG-02, R-SEC-01)."""

from __future__ import annotations

from datetime import date

from ninja import Field, Query, Router, Schema

from mchis.core.api import MAX_OFFSET
from mchis.core.errors import ValidationFailed
from mchis.core.http import ApiRequest

from .models import ReportingUnit
from .selectors import unit_get, unit_list, unit_placements

router = Router(tags=["units"])

MAX_LIMIT = 1000


class UnitOut(Schema):
    code: str = Field(examples=["TYT02269"])
    name: str = Field(examples=["Trạm Y tế phường Minh Xuân"])
    kind: str = Field(examples=["tyt"])
    parent: str | None = Field(None, examples=["TTYT08-01"])
    admin_unit: str = Field(description="Code of the 2025 admin unit where it is located", examples=["02269"])
    admin_unit_level: str = Field(examples=["commune"])
    depth: int
    active: bool


class UnitPage(Schema):
    count: int
    items: list[UnitOut]


class PlacementOut(Schema):
    parent: str | None
    path: str
    valid_from: date
    valid_to: date | None = Field(None, description="null = current")


class UnitDetail(UnitOut):
    placements: list[PlacementOut]


class UnitFilters(Schema):
    under: str | None = Field(None, description="Code of a unit: only that unit and those under it")
    on: str | None = Field(None, description="YYYY-MM-DD: the tree as it was on that date (with `under`)")
    limit: int = 200
    offset: int = 0


def _out(unit: ReportingUnit) -> UnitOut:
    return UnitOut(
        code=unit.code,
        name=unit.name,
        kind=unit.kind,
        parent=unit.parent.code if unit.parent else None,
        admin_unit=unit.admin_unit.code,
        admin_unit_level=unit.admin_unit.level,
        depth=unit.depth,
        active=unit.active,
    )


@router.get("", response=UnitPage, summary="Units in my jurisdiction")
def list_units(request: ApiRequest, filters: Query[UnitFilters]) -> UnitPage:
    errors: list[dict[str, str | int | None]] = []
    day: date | None = None
    if filters.on:
        try:
            day = date.fromisoformat(filters.on)
        except ValueError:
            errors.append({"field": "on", "message": f"Ngày '{filters.on}' không đúng dạng YYYY-MM-DD."})
    if not 1 <= filters.limit <= MAX_LIMIT:
        errors.append({"field": "limit", "message": f"limit phải từ 1 đến {MAX_LIMIT}."})
    if not 0 <= filters.offset <= MAX_OFFSET:
        errors.append({"field": "offset", "message": f"offset phải từ 0 đến {MAX_OFFSET}."})
    if errors:
        raise ValidationFailed(errors)
    principal = request.auth
    under = unit_get(principal, filters.under) if filters.under else None
    qs = unit_list(principal, under=under, on=day)
    return UnitPage(
        count=qs.count(), items=[_out(u) for u in qs[filters.offset : filters.offset + filters.limit]]
    )


@router.get("/{code}", response=UnitDetail, summary="One unit with its placement history")
def get_unit(request: ApiRequest, code: str) -> UnitDetail:
    principal = request.auth
    unit = unit_get(principal, code)
    return UnitDetail(
        **_out(unit).model_dump(),
        placements=[
            PlacementOut(
                parent=p.parent.code if p.parent else None,
                path=p.path,
                valid_from=p.valid_from,
                valid_to=p.valid_to,
            )
            for p in unit_placements(unit)
        ],
    )
