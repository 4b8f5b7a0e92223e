"""pg_trgm GIN indexes on the folded name columns (PostgreSQL only; SQLite searches with LIKE)."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS child_name_folded_trgm ON registry_child USING gin (name_folded gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS child_guardian_folded_trgm ON registry_child "
    "USING gin (guardian_name_folded gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS child_guardian_folded_trgm",
    "DROP INDEX IF EXISTS child_name_folded_trgm",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_change_requests_history")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
