"""Trigram search indexes per province (ADR 0081; PostgreSQL only — SQLite searches with LIKE).

The three nation-wide pg_trgm GIN indexes (migrations 0003, 0004) are replaced by one partial index per
province and column (`WHERE province_code = '08'`), plus one for rows without a province (normally none).
A province-scoped search then reads only its province's posting lists; the selector names the province(s)
of the scope in the query so the planner can pick them (`registry.selectors.child_search`). The same
entries in total: the write cost and the size stay those of the three indexes they replace.

Built CONCURRENTLY (the migration is not atomic): on a live national registry it takes minutes per column
and must not block the station officers' writes meanwhile.
"""

from django.db import migrations

# Frozen here (a migration must not change when the code does): units.provinces.PROVINCE_CODES_2025 and
# registry.search.SEARCH_INDEX_COLUMNS / province_index_name as of this migration; a test compares them.
PROVINCE_CODES_2025 = (
    "01", "04", "08", "11", "12", "14", "15", "19", "20", "22", "24", "25", "31", "33", "37", "38", "40",
    "42", "44", "46", "48", "51", "52", "56", "66", "68", "75", "79", "80", "82", "86", "91", "92", "96",
)  # fmt: skip
SEARCH_INDEX_COLUMNS = {"name_folded": "name", "guardian_name_folded": "guardian", "parents_folded": "parents"}


def province_index_name(column: str, code: str) -> str:
    return f"child_{SEARCH_INDEX_COLUMNS[column]}_trgm_p{code or 'none'}"


NATIONWIDE = {
    "child_name_folded_trgm": "name_folded",
    "child_guardian_folded_trgm": "guardian_name_folded",
    "child_parents_folded_trgm": "parents_folded",
}


def _buckets() -> list[str]:
    return [*PROVINCE_CODES_2025, ""]


def per_province(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for code in _buckets():
        for column in SEARCH_INDEX_COLUMNS:
            schema_editor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {province_index_name(column, code)} ON registry_child "
                f"USING gin ({column} gin_trgm_ops) WHERE province_code = '{code}'"
            )
    for name in NATIONWIDE:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def nationwide(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in NATIONWIDE.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON registry_child USING gin ({column} gin_trgm_ops)"
        )
    for code in _buckets():
        for column in SEARCH_INDEX_COLUMNS:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {province_index_name(column, code)}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("registry", "0011_child_commune_dob_index")]

    operations = [migrations.RunPython(per_province, nationwide)]
