"""/api/v1/catalogs — shared catalogs as they were on a date (signed-in users and machine clients)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from mchis.core.errors import ValidationFailed

from .selectors import catalog_get, catalog_items, catalog_list

router = Router(tags=["catalogs"])


class CatalogOut(Schema):
    code: str = Field(examples=["ethnic_group"])
    name_vi: str = Field(examples=["Dân tộc"])
    name_en: str = Field(examples=["Ethnic group"])
    code_system: str = Field(examples=["QĐ 121-TCTK/PPCĐ"])
    item_count: int = Field(description="Items in force today")


class CatalogItemOut(Schema):
    code: str = Field(examples=["04"])
    name_vi: str = Field(examples=["Hoa"])
    name_en: str
    parent_code: str
    version: int
    valid_from: date
    valid_to: date | None
    code_system: str
    extra: dict[str, Any] = Field(examples=[{"census_code": "06"}])


class CatalogItemPage(Schema):
    catalog: str
    on: date
    count: int
    items: list[CatalogItemOut]


class ItemFilters(Schema):
    on: str | None = Field(None, description="YYYY-MM-DD; default today")


@router.get("", response=list[CatalogOut], summary="Shared catalogs")
def list_catalogs(request: HttpRequest) -> list[CatalogOut]:
    return [
        CatalogOut(
            code=c.code,
            name_vi=c.name_vi,
            name_en=c.name_en,
            code_system=c.code_system,
            item_count=c.item_count,  # type: ignore[attr-defined]
        )
        for c in catalog_list()
    ]


@router.get("/{code}/items", response=CatalogItemPage, summary="Items of a catalog in force on a date")
def list_items(request: HttpRequest, code: str, filters: Query[ItemFilters]) -> CatalogItemPage:
    day = timezone.localdate()
    if filters.on:
        try:
            day = date.fromisoformat(filters.on)
        except ValueError as exc:
            raise ValidationFailed(
                [{"field": "on", "message": f"Ngày '{filters.on}' không đúng dạng YYYY-MM-DD."}]
            ) from exc
    if catalog_get(code) is None:
        raise Http404(f"Không có danh mục '{code}'.")
    items = list(catalog_items(code, on=day))
    return CatalogItemPage(
        catalog=code,
        on=day,
        count=len(items),
        items=[
            CatalogItemOut(
                code=i.code,
                name_vi=i.name_vi,
                name_en=i.name_en,
                parent_code=i.parent_code,
                version=i.version,
                valid_from=i.valid_from,
                valid_to=i.valid_to,
                code_system=i.code_system,
                extra=i.extra,
            )
            for i in items
        ],
    )
