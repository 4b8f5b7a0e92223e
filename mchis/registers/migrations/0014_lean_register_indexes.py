"""Leaner register indexes (issue 20): the single-column indexes Django gave the foreign keys go.

- `facility`: it leads the (facility, month) index and the source key, which answer everything it did;
- `person`, `voided_by`: most rows have no person (no personal ID) and no row is voided when written, yet each
  row added an entry to both; partial indexes (`IS NOT NULL`) keep the look-ups and skip those rows;
- the newborn's `delivery`: it leads newborn_order_unique.

Only the indexes are dropped (SeparateDatabaseAndState): Django's AlterField would also drop and re-add each
foreign key constraint, which re-checks every row of a national-size table (the constraints do not change).
Each index is found by introspection (its name carries Django's hash), on PostgreSQL the partitioned parent's
index (dropping it drops its partitions' too).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# the registers and the prefix of their index names (models._register_meta)
REGISTERS = {"abortion": "abortion", "ancvisit": "anc", "childexam": "child_exam", "contraception": "contraception",
             "death": "death", "delivery": "delivery", "gynexam": "gyn"}  # fmt: skip
# (model, column) whose single-column index goes
DROPPED = [
    *((model, column) for model in REGISTERS for column in ("facility_id", "person_id", "voided_by_id")),
    ("newborn", "delivery_id"), ("newborn", "facility_id"), ("newborn", "person_id"),
]  # fmt: skip


def _single_column_indexes(schema_editor, table, column):
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(cursor, table)
    return [
        name
        for name, info in found.items()
        if info["index"]
        and not info["unique"]
        and not info["primary_key"]
        and info["columns"] == [column]
        and name.startswith("registers_")  # Django's own (ours are named <register>_…_idx)
    ]


def drop_indexes(apps, schema_editor):
    for model_name, column in DROPPED:
        model = apps.get_model("registers", model_name)
        for name in _single_column_indexes(schema_editor, model._meta.db_table, column):
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def recreate_indexes(apps, schema_editor):
    for model_name, column in DROPPED:
        model = apps.get_model("registers", model_name)
        table = model._meta.db_table
        name = schema_editor._create_index_name(table, [column])
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(name)} ON {schema_editor.quote_name(table)} "
            f"({schema_editor.quote_name(column)})"
        )


def _facility():
    return models.ForeignKey(
        db_index=False,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="units.reportingunit",
    )


def _person():
    return models.ForeignKey(
        blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+",
        to="registers.person",
    )  # fmt: skip


def _voided_by():
    return models.ForeignKey(
        blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+",
        to=settings.AUTH_USER_MODEL,
    )  # fmt: skip


def _partial(model, field, name):
    return migrations.AddIndex(
        model_name=model,
        index=models.Index(condition=models.Q((f"{field}__isnull", False)), fields=[field], name=name),
    )


STATE = [
    *(
        migrations.AlterField(model_name=model, name=name, field=make())
        for model in REGISTERS
        for name, make in (("facility", _facility), ("person", _person), ("voided_by", _voided_by))
    ),
    migrations.AlterField(
        model_name="newborn",
        name="delivery",
        field=models.ForeignKey(
            db_index=False,
            on_delete=django.db.models.deletion.CASCADE,
            related_name="newborns",
            to="registers.delivery",
        ),
    ),  # fmt: skip
    migrations.AlterField(model_name="newborn", name="facility", field=_facility()),
    migrations.AlterField(model_name="newborn", name="person", field=_person()),
]
NEW_INDEXES = [
    *(_partial(model, field, f"{prefix}_{field}_idx") for model, prefix in REGISTERS.items()
      for field in ("person", "voided_by")),
    _partial("newborn", "person", "newborn_person_idx"),
]  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0013_newborn_stillbirth_index"),
        ("units", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_indexes, recreate_indexes)], state_operations=STATE
        ),
        *NEW_INDEXES,
    ]
