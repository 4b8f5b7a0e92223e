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


# Past this many units (the Ministry's scope: every unit of the nation) reading every unit's path is cheaper than
# listing the ids in the statement (7,753 ids: ~0.2 s to build, send and plan the IN list).
_ALL_UNITS_ABOVE = 500


def province_codes_for(unit_ids: Iterable[int]) -> dict[int, str]:
    """{unit id: province code} for these units ("" for a unit outside every province)."""
    wanted = set(unit_ids)
    if not wanted:
        return {}
    units = ReportingUnit.objects.all()
    if len(wanted) <= _ALL_UNITS_ABOVE:
        units = units.filter(id__in=wanted)
    # the Sở Y tế (a few dozen) by the path token of their id: the first one on a unit's path is its province
    dohs = {
        str(pk): code
        for pk, code in ReportingUnit.objects.filter(kind=UnitKind.DOH, admin_unit__isnull=False).values_list(
            "id", "admin_unit__code"
        )
    }
    return {
        uid: next((dohs[token] for token in path.split("/") if token in dohs), "")
        for uid, path in units.values_list("id", "path")
        if uid in wanted
    }


def province_code_of(unit_id: int) -> str:
    return province_codes_for([unit_id]).get(unit_id, "")
