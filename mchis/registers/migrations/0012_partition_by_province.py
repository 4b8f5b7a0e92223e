"""The register tables without inbound foreign keys become LIST-partitioned by `province_code` (issue 20 item 2,
ADR 0075; PostgreSQL only — SQLite keeps plain tables, the model constraint of 0011 is the same on both).

Partitioned: anc visits, abortions, gynaecological exams, contraception, child exams, deaths. Not partitioned:
`registers_delivery` (`registers_newborn.delivery_id` references it: a foreign key to a partitioned table must
name a unique key holding the partition key, which Django cannot declare) and `registers_newborn` (a child of
the delivery, read with it).

Per table, in one transaction: the table is renamed aside, a partitioned table `LIKE` it (columns, defaults,
NOT NULL and CHECK constraints) is created with one partition per 2025 province, one for '' (units above the
provinces) and a DEFAULT one, each with the storage parameters of `ops 0002`; the rows are copied; then the
indexes and constraints the table had (read from the catalog, so every index a model or an earlier migration
declared, under its own name) are created on the partitioned parent — PostgreSQL creates and attaches one per
partition. The primary key becomes (id, province_code) (PostgreSQL 15: the partition key must be in it; `id`
first, so a read by id alone probes each partition's key index; `id` stays unique through its sequence, which
replaces the identity column). Django's later AddIndex/RemoveIndex
on the parent work unchanged. Reversible: the same rebuild back into a plain table with an identity column.

Time: one pass of the rows plus the index builds (docs/national-scale.md "Partitioning" gives the measured rate
per million rows). On a live national database run it per table in a maintenance window: the table is locked
for writes while its rows are copied.
"""

from django.db import migrations

# Frozen here (a migration must not change when the code does): units.provinces.PROVINCE_CODES_2025 as of this
# migration (a test compares them) and the storage parameters of ops 0002 for register rows.
PROVINCE_CODES_2025 = (
    "01", "04", "08", "11", "12", "14", "15", "19", "20", "22", "24", "25", "31", "33", "37", "38", "40",
    "42", "44", "46", "48", "51", "52", "56", "66", "68", "75", "79", "80", "82", "86", "91", "92", "96",
)  # fmt: skip
PARTITIONED_TABLES = (
    "registers_ancvisit", "registers_abortion", "registers_gynexam", "registers_contraception",
    "registers_childexam", "registers_death",
)  # fmt: skip
HOT = "fillfactor = 90, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01"


def partition_name(table: str, code: str) -> str:
    return f"{table}_p{code or 'none'}"


def _q(cursor, sql, params=None):
    cursor.execute(sql, params)
    return cursor.fetchall()


def _definitions(cursor, table):
    """(indexes, constraints) of `table` that a rebuild must recreate: [(name, CREATE INDEX …)] of the indexes
    that back no constraint, [(name, kind, definition)] of its primary key, unique and foreign keys (CHECK and
    NOT NULL travel with `LIKE … INCLUDING CONSTRAINTS`)."""
    indexes = _q(
        cursor,
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k "
        "WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid) ORDER BY c.relname",
        [table],
    )
    constraints = _q(
        cursor,
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f') ORDER BY contype DESC, conname",
        [table],
    )
    # "ON ONLY parent" (a partitioned table's index) must become "ON parent": created on every partition
    return [(n, d.replace(" ON ONLY ", " ON ", 1)) for n, d in indexes], constraints


def _rebuild(cursor, table, *, partitioned):
    indexes, constraints = _definitions(cursor, table)
    old = f"{table}_old"
    top = _q(cursor, f"SELECT coalesce(max(id), 0) FROM {table}")[0][0]  # noqa: S608
    for name, kind, _ in constraints:
        if kind == "f":
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, kind, _ in constraints:
        if kind != "f":
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    if partitioned:  # the identity (and its sequence) goes; a plain sequence replaces it below
        cursor.execute(f"ALTER TABLE {table} ALTER COLUMN id DROP IDENTITY IF EXISTS")
    else:
        cursor.execute(f"ALTER TABLE {table} ALTER COLUMN id DROP DEFAULT")
        cursor.execute(f"DROP SEQUENCE IF EXISTS {table}_id_seq")
    cursor.execute(f"ALTER TABLE {table} RENAME TO {old}")
    like = f"LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE"
    if partitioned:
        cursor.execute(f"CREATE TABLE {table} ({like}) PARTITION BY LIST (province_code)")
        for code in (*PROVINCE_CODES_2025, ""):
            cursor.execute(
                f"CREATE TABLE {partition_name(table, code)} PARTITION OF {table} FOR VALUES IN ('{code}') "
                f"WITH ({HOT})"
            )
        cursor.execute(f"CREATE TABLE {table}_pdefault PARTITION OF {table} DEFAULT WITH ({HOT})")
        cursor.execute(f"CREATE SEQUENCE {table}_id_seq AS bigint OWNED BY NONE")
        cursor.execute(f"SELECT setval('{table}_id_seq', %s, false)", [top + 1])
        cursor.execute(f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq')")
        cursor.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    else:
        cursor.execute(f"CREATE TABLE {table} ({like}) WITH ({HOT})")
        cursor.execute(
            f"ALTER TABLE {table} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (START WITH {top + 1})"
        )
    cursor.execute(f"INSERT INTO {table} SELECT * FROM {old}")  # noqa: S608 - same columns, same order (LIKE)
    cursor.execute(f"DROP TABLE {old}")
    for name, kind, definition in constraints:
        if kind == "p":
            definition = "PRIMARY KEY (id, province_code)" if partitioned else "PRIMARY KEY (id)"
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _, definition in indexes:
        cursor.execute(definition)
    cursor.execute(f"ANALYZE {table}")


def _convert_all(schema_editor, *, partitioned):
    """Every table of the list into the wanted layout; a table already in it is left alone (re-runnable)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for table in PARTITIONED_TABLES:
            is_partitioned = (
                _q(cursor, "SELECT relkind FROM pg_class WHERE oid = %s::regclass", [table])[0][0] == "p"
            )
            if is_partitioned != partitioned:
                _rebuild(cursor, table, partitioned=partitioned)


def partition(apps, schema_editor):
    _convert_all(schema_editor, partitioned=True)


def unpartition(apps, schema_editor):
    _convert_all(schema_editor, partitioned=False)


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0011_source_key_province"),
        # its ALTER TABLE … SET (storage) must run on the plain tables (a partitioned parent takes none)
        ("ops", "0002_storage_parameters"),
    ]

    operations = [migrations.RunPython(partition, unpartition)]
