"""The province of a reporting unit: the 2-digit 2025 code of the Sở Y tế above it ("" above the provinces).

It is the shard key of the large tables (children, register rows: `province_code`, ADR 0074 and 0075), written
by their writers from the unit: two small indexed queries per call, whatever the number of rows written.
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import ReportingUnit, UnitKind

# The 34 provinces of 2025 (Nghị quyết 202/2025/QH15), as loaded by `load_admin_units` (a test holds the two
# equal). Schema objects are made per province from this list — the registry's per-province search indexes
# (ADR 0081) — so it is code, not data: a migration cannot wait for the admin units to be loaded.
PROVINCE_CODES_2025: tuple[str, ...] = (
    "01", "04", "08", "11", "12", "14", "15", "19", "20", "22", "24", "25", "31", "33", "37", "38", "40",
    "42", "44", "46", "48", "51", "52", "56", "66", "68", "75", "79", "80", "82", "86", "91", "92", "96",
)  # fmt: skip

# One SQL statement giving every unit its province code (the migrations that fill `province_code` use it).
UNIT_PROVINCE_SQL = (
    "SELECT u.id AS unit_id, a.code AS code FROM units_reportingunit u JOIN units_reportingunit d "
    "ON u.path LIKE d.path || '%' AND d.kind = 'doh' JOIN places_adminunit a ON a.id = d.admin_unit_id"
)


def province_codes_for(unit_ids: Iterable[int]) -> dict[int, str]:
    """{unit id: province code} for these units ("" for a unit outside every province)."""
    paths = dict(ReportingUnit.objects.filter(id__in=set(unit_ids)).values_list("id", "path"))
    ancestors = {
        uid: [int(x) for x in path.strip("/").split("/") if x.isdigit()] for uid, path in paths.items()
    }
    dohs = dict(
        ReportingUnit.objects.filter(
            id__in={i for ids in ancestors.values() for i in ids}, kind=UnitKind.DOH, admin_unit__isnull=False
        ).values_list("id", "admin_unit__code")
    )
    return {uid: next((dohs[i] for i in ids if i in dohs), "") for uid, ids in ancestors.items()}


def province_code_of(unit_id: int) -> str:
    return province_codes_for([unit_id]).get(unit_id, "")
