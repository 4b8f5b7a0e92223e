"""Children carry their unit's 2025 province code (the shard key, issue 20, ADR 0074/0075), filled for the rows
there are. Kept apart from other registry migrations on purpose: small, one concern."""

from django.db import migrations, models


TABLES = [("registry_child", "unit_id")]

# Each unit's province: the 2025 code of the Sở Y tế (kind "doh") whose path its path starts with. Kept inline
# (a migration must not change when mchis.units.provinces does).
UNIT_PROVINCE = (
    "SELECT u.id AS unit_id, a.code AS code FROM units_reportingunit u JOIN units_reportingunit d "
    "ON u.path LIKE d.path || '%' AND d.kind = 'doh' JOIN places_adminunit a ON a.id = d.admin_unit_id"
)


def fill(apps, schema_editor):
    """One set-based UPDATE per table (PostgreSQL: a join; SQLite: a correlated subquery)."""
    with schema_editor.connection.cursor() as cursor:
        for table, column in TABLES:
            if schema_editor.connection.vendor == "postgresql":
                cursor.execute(
                    f"UPDATE {table} t SET province_code = p.code FROM ({UNIT_PROVINCE}) p "
                    f"WHERE p.unit_id = t.{column} AND t.province_code <> p.code"
                )
            else:
                cursor.execute(
                    f"UPDATE {table} SET province_code = COALESCE((SELECT p.code FROM ({UNIT_PROVINCE}) p "
                    f"WHERE p.unit_id = {table}.{column}), '')"
                )


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0009_change_request_conflict'),
        ('units', '0001_initial'),
        ('places', '0003_village_pending'),
    ]

    operations = [
        migrations.AddField(
            model_name='child',
            name='province_code',
            field=models.CharField(blank=True, default='', max_length=2),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
