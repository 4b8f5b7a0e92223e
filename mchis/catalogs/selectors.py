"""Reads of the shared catalogs. Catalogs are reference data: any signed-in user may read them."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .models import Catalog, CatalogItem


def catalog_list() -> QuerySet[Catalog]:
    """Catalogs with the number of items in force today."""
    today = timezone.localdate()
    in_force = Q(items__valid_from__lte=today) & (
        Q(items__valid_to__isnull=True) | Q(items__valid_to__gt=today)
    )
    return Catalog.objects.annotate(item_count=Count("items", filter=in_force)).order_by("code")


def catalog_get(code: str) -> Catalog | None:
    return Catalog.objects.filter(code=code).first()


def catalog_items(catalog_code: str, *, on: date | None = None) -> QuerySet[CatalogItem]:
    """Items in force on a date (default today): the version each code had then."""
    return CatalogItem.objects.of(catalog_code).on(on or timezone.localdate()).order_by("sort_order", "code")


def catalog_current_items(catalog_code: str) -> QuerySet[CatalogItem]:
    """The open version of every code not retired (what admins edit)."""
    return CatalogItem.objects.of(catalog_code).current().order_by("sort_order", "code")


def catalog_item_history(catalog_code: str, code: str) -> QuerySet[CatalogItem]:
    return CatalogItem.objects.of(catalog_code).filter(code=code).order_by("version")


def catalog_item_current(catalog_code: str, code: str) -> CatalogItem | None:
    """The open version of one code, or None when it is retired or unknown."""
    return CatalogItem.objects.of(catalog_code).current().filter(code=code).first()


def catalog_codes(catalog_code: str, on: date | None = None) -> set[str]:
    """Codes valid on a date: other apps validate a stored value with `value in catalog_codes(...)`."""
    return set(catalog_items(catalog_code, on=on).values_list("code", flat=True))


def catalog_choices(catalog_code: str, *, on: date | None = None) -> list[tuple[str, str]]:
    """(code, name_vi) pairs for a form dropdown, in the catalog's order."""
    return [(code, name) for code, name in catalog_items(catalog_code, on=on).values_list("code", "name_vi")]


def catalog_label(catalog_code: str, code: str, *, on: date | None = None) -> str:
    """The name a code had on a date (for showing old records with their names of the time)."""
    item = catalog_items(catalog_code, on=on).filter(code=code).first()
    return item.name_vi if item else code
