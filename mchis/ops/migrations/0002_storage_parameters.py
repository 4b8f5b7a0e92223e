"""Storage parameters of the update-heavy tables at national size (issue 20, ADR 0075). PostgreSQL only.

* fillfactor < 100 leaves room on each page, so an UPDATE that touches no indexed column stays on its page
  (a HOT update: no index writes, no page split): children (approved changes, identity checks), register rows
  (a facility re-sends its month: upsert), the outbox (every delivery moves an entry pending → in flight →
  delivered), ingest batches (queued → running → done). Applies to pages written from now on
  (`VACUUM FULL` / pg_repack rewrites the old ones).
* autovacuum by a fixed number of changed rows plus a small share, not PostgreSQL's 20 % of the table: at 25 M
  children the default waits for 5 M dead rows, and ANALYZE for 2.5 M changed ones (stale plans after each
  month-end burst). The outbox churns most: vacuumed after 1 % + 1,000 rows.
"""

from django.db import migrations

HOT = "fillfactor = 90, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01"
TABLES = {
    "registry_child": HOT,
    **{f"registers_{t}": HOT for t in ("ancvisit", "delivery", "newborn", "abortion", "gynexam",
                                        "contraception", "childexam", "death")},
    "registers_ingestbatch": "fillfactor = 80, autovacuum_vacuum_scale_factor = 0.05",
    "outbox_outboxentry": (
        "fillfactor = 70, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000, "
        "autovacuum_analyze_scale_factor = 0.02"
    ),
}  # fmt: skip


def _keys(params: str) -> str:
    return ", ".join(p.split("=")[0].strip() for p in params.split(","))


def apply(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, params in TABLES.items():
        schema_editor.execute(f"ALTER TABLE {table} SET ({params})")


def revert(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, params in TABLES.items():
        schema_editor.execute(f"ALTER TABLE {table} RESET ({_keys(params)})")


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0001_initial"),
        ("registry", "0010_province_code"),
        ("registers", "0008_province_code"),
        ("outbox", "0001_initial"),
    ]

    operations = [migrations.RunPython(apply, revert)]
