"""/api/v1/admin-units — public reference data (no login): both code systems and the old↔new mapping."""

from __future__ import annotations

from typing import Literal

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from mchis.core.api import MAX_OFFSET
from mchis.core.errors import ValidationFailed

from .models import AdminUnit, CodeVersion
from .selectors import LEVELS_BY_VERSION, admin_unit_get, admin_unit_list, mapping_of

router = Router(tags=["admin-units"])

MAX_LIMIT = 5000


class AdminUnitOut(Schema):
    code: str = Field(examples=["00004"])
    name: str = Field(examples=["Phường Ba Đình"])
    level: str = Field(examples=["commune"])
    version: str = Field(examples=["2025"])
    parent: str | None = Field(None, description="Code of the parent unit, same version", examples=["01"])


class AdminUnitPage(Schema):
    count: int = Field(examples=[3321])
    items: list[AdminUnitOut]


class AdminUnitFilters(Schema):
    version: str = Field("2025", description="'2025' or 'pre2025'")
    level: str | None = Field(
        None, description="province | commune (2025); province | district | commune (pre2025)"
    )
    parent: str | None = Field(None, description="Code of the parent unit (same version)")
    q: str | None = Field(None, description="Name search, diacritics optional")
    limit: int = Field(100, description=f"1..{MAX_LIMIT}")
    offset: int = Field(0, description=">= 0")


class MappingRowOut(Schema):
    old: AdminUnitOut
    new: AdminUnitOut
    kind: str = Field(examples=["partial"], description="whole | partial | unchanged")
    is_default: bool
    source: str = Field(examples=["gso+vnau"])
    note: str


class MappingOut(Schema):
    unit: AdminUnitOut
    direction: Literal["old_to_new", "new_from_old"]
    count: int
    items: list[MappingRowOut]


def _out(unit: AdminUnit) -> AdminUnitOut:
    return AdminUnitOut(
        code=unit.code,
        name=unit.name,
        level=unit.level,
        version=unit.version,
        parent=unit.parent.code if unit.parent_id and unit.parent else None,
    )


def _check_version(version: str) -> CodeVersion:
    if version not in CodeVersion.values:
        raise ValidationFailed(
            [
                {
                    "field": "version",
                    "message": f"Phiên bản mã '{version}' không hợp lệ; dùng '2025' hoặc 'pre2025'.",
                }
            ]
        )
    return CodeVersion(version)


@router.get("", auth=None, response=AdminUnitPage, summary="List administrative units (public)")
def list_admin_units(request: HttpRequest, filters: Query[AdminUnitFilters]) -> AdminUnitPage:
    version = _check_version(filters.version)
    errors: list[dict[str, str | int | None]] = []
    if filters.level and filters.level not in LEVELS_BY_VERSION[version]:
        allowed = " | ".join(LEVELS_BY_VERSION[version])
        errors.append(
            {"field": "level", "message": f"Cấp '{filters.level}' không có trong mã {version} ({allowed})."}
        )
    if not 1 <= filters.limit <= MAX_LIMIT:
        errors.append({"field": "limit", "message": f"limit phải từ 1 đến {MAX_LIMIT}."})
    if not 0 <= filters.offset <= MAX_OFFSET:
        errors.append({"field": "offset", "message": f"offset phải từ 0 đến {MAX_OFFSET}."})
    if errors:
        raise ValidationFailed(errors)
    qs = admin_unit_list(version=version, level=filters.level, parent=filters.parent, q=filters.q)
    page = qs[filters.offset : filters.offset + filters.limit]
    return AdminUnitPage(count=qs.count(), items=[_out(u) for u in page])


@router.get(
    "/{version}/{code}/mapping",
    auth=None,
    response=MappingOut,
    summary="Old commune → new communes, or new commune ← old units (public)",
)
def admin_unit_mapping(request: HttpRequest, version: str, code: str) -> MappingOut:
    v = _check_version(version)
    unit = admin_unit_get(version=v, code=code)
    if unit is None:
        raise Http404(f"Không có đơn vị mã {code} ({v}).")
    rows = mapping_of(unit)
    return MappingOut(
        unit=_out(unit),
        direction="old_to_new" if v == CodeVersion.PRE2025 else "new_from_old",
        count=len(rows),
        items=[
            MappingRowOut(
                old=_out(m.old),
                new=_out(m.new),
                kind=m.kind,
                is_default=m.is_default,
                source=m.source,
                note=m.note,
            )
            for m in rows
        ],
    )
