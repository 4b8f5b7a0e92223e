"""Reads of administrative units: lists for the API, the old→new mapping, address conversion, villages.

Administrative units are public reference data (not scoped); villages are read within a commune.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from mchis.core.text import fold, nfc

from .models import AdminUnit, CodeVersion, CommuneMapping, Level, Village

LEVELS_BY_VERSION = {
    CodeVersion.V2025: (Level.PROVINCE, Level.COMMUNE),
    CodeVersion.PRE2025: (Level.PROVINCE, Level.DISTRICT, Level.COMMUNE),
}


def admin_unit_list(
    *, version: str, level: str | None = None, parent: str | None = None, q: str | None = None
) -> QuerySet[AdminUnit]:
    """Units of one code system, optionally of one level, under one parent code, or matching a name.

    `q` matches the diacritic-free key, so "ba dinh" finds "Phường Ba Đình" (R-ORG-04).
    """
    qs = AdminUnit.objects.filter(version=version).select_related("parent")
    if level:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent__code=parent, parent__version=version)
    if q:
        qs = qs.filter(search_key__contains=fold(q))
    return qs.order_by("level", "code")


def admin_unit_get(*, version: str, code: str, level: str | None = None) -> AdminUnit | None:
    """One unit by code; without a level, the commune wins over a district/province with the same code."""
    qs = AdminUnit.objects.filter(version=version, code=code).select_related("parent")
    if level:
        qs = qs.filter(level=level)
    order = {Level.COMMUNE: 0, Level.DISTRICT: 1, Level.PROVINCE: 2}
    return min(qs, key=lambda u: order[Level(u.level)], default=None)


def mapping_of(unit: AdminUnit) -> list[CommuneMapping]:
    """Old unit → its new communes (default first); new commune → the old units merged into it."""
    if unit.version == CodeVersion.PRE2025:
        return list(
            CommuneMapping.objects.filter(old=unit)
            .select_related("old", "new", "old__parent", "new__parent")
            .order_by("-is_default", "new__code")
        )
    return list(
        CommuneMapping.objects.filter(new=unit)
        .select_related("old", "new", "old__parent", "new__parent")
        .order_by("old__code")
    )


def new_communes_of(old: AdminUnit) -> list[AdminUnit]:
    """The 2025 communes an old commune (or island district) went into, the default seat first."""
    return [m.new for m in mapping_of(old)] if old.version == CodeVersion.PRE2025 else [old]


@dataclass(frozen=True)
class OldAddress:
    province_code: str | None
    district_code: str | None
    commune_code: str | None


def parse_old_address(address: str) -> OldAddress | None:
    """Parse a pre-2025 address ("Phường Ngọc Hà, Quận Ba Đình, Thành phố Hà Nội") with the
    `vietnamadminunits` parser (legacy mode). The street is dropped: the library would otherwise
    geocode it over the network to choose between the parts of a split commune."""
    from vietnamadminunits import ParseMode, parse_address

    text = nfc(address)
    if not text:
        return None
    try:
        unit: Any = parse_address(text, mode=ParseMode.LEGACY, keep_street=False, level=3)
    except Exception:  # the parser raises bare exceptions on unreadable input
        return None
    if unit is None or not getattr(unit, "province_code", None):
        return None
    return OldAddress(unit.province_code, unit.district_code, unit.ward_code)


def which_2025_commune(address: str) -> list[AdminUnit]:
    """Which 2025 commune(s) is this old (pre-2025) address in? (R-ORG-01)

    One commune when the old commune went whole into one; all candidates when it was split
    (Nhập một phần), the default seat first. Empty when the address names no known old commune.
    An island district without communes (huyện Côn Đảo, …) maps to its đặc khu.
    """
    parsed = parse_old_address(address)
    if parsed is None:
        return []
    old: AdminUnit | None = None
    if parsed.commune_code:
        old = admin_unit_get(version=CodeVersion.PRE2025, code=parsed.commune_code, level=Level.COMMUNE)
    elif parsed.district_code:
        district = admin_unit_get(
            version=CodeVersion.PRE2025, code=parsed.district_code, level=Level.DISTRICT
        )
        if district is not None and not district.children.exists():
            old = district
    if old is None:
        return []
    return new_communes_of(old)


def commune_codes_2025() -> frozenset[str]:
    """Every 2025 commune code (residence codes of register rows are checked against it)."""
    return frozenset(
        AdminUnit.objects.filter(version=CodeVersion.V2025, level=Level.COMMUNE).values_list(
            "code", flat=True
        )
    )


def villages_of(commune: AdminUnit, *, include_inactive: bool = False) -> QuerySet[Village]:
    qs = Village.objects.filter(commune=commune)
    return qs if include_inactive else qs.filter(active=True)


def commune_search(queryset: QuerySet[AdminUnit], q: str) -> QuerySet[AdminUnit]:
    """Filter communes by name (diacritic-free) or code."""
    if not q:
        return queryset
    return queryset.filter(Q(search_key__contains=fold(q)) | Q(code=q.strip()))


def village_labels(ids: Iterable[int]) -> dict[int, str]:
    """Village id → its name as people read it ("Thôn Nà Pài"), for showing stored ids."""
    wanted = {int(i) for i in ids if str(i).isdigit()}
    if not wanted:
        return {}
    return {v.pk: str(v) for v in Village.objects.filter(pk__in=wanted)}
