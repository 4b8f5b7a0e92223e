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

# (model, column) whose single-column index goes
DROPPED = [
    *((model, column) for model in ("abortion", "ancvisit", "childexam", "contraception", "death", "delivery",
                                    "gynexam") for column in ("facility_id", "person_id", "voided_by_id")),
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
        and name.startswith(table[:10])  # Django's own (ours are named <register>_…_idx)
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


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0013_newborn_stillbirth_index"),
        ("units", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_indexes, recreate_indexes)],
            state_operations=[
                migrations.AlterField(
                    model_name="abortion",
                    name="facility",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="units.reportingunit",
                    ),
                ),
                migrations.AlterField(
                    model_name="abortion",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="registers.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="abortion",
                    name="voided_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="ancvisit",
                    name="facility",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="units.reportingunit",
                    ),
                ),
                migrations.AlterField(
                    model_name="ancvisit",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="registers.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="ancvisit",
                    name="voided_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="childexam",
                    name="facility",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="units.reportingunit",
                    ),
                ),
                migrations.AlterField(
                    model_name="childexam",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="registers.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="childexam",
                    name="voided_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="contraception",
                    name="facility",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="units.reportingunit",
                    ),
                ),
                migrations.AlterField(
                    model_name="contraception",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="registers.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="contraception",
                    name="voided_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="death",
                    name="facility",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="units.reportingunit",
                    ),
                ),
                migrations.AlterField(
                    model_name="death",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="registers.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="death",
                    name="voided_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="delivery",
                    name="facility",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="units.reportingunit",
                    ),
                ),
                migrations.AlterField(
                    model_name="delivery",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="registers.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="delivery",
                    name="voided_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="gynexam",
                    name="facility",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="units.reportingunit",
                    ),
                ),
                migrations.AlterField(
                    model_name="gynexam",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="registers.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="gynexam",
                    name="voided_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
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
                ),
                migrations.AlterField(
                    model_name="newborn",
                    name="facility",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="units.reportingunit",
                    ),
                ),
                migrations.AlterField(
                    model_name="newborn",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="registers.person",
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="abortion",
            index=models.Index(
                condition=models.Q(("person__isnull", False)), fields=["person"], name="abortion_person_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="abortion",
            index=models.Index(
                condition=models.Q(("voided_by__isnull", False)),
                fields=["voided_by"],
                name="abortion_voided_by_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="ancvisit",
            index=models.Index(
                condition=models.Q(("person__isnull", False)), fields=["person"], name="anc_person_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="ancvisit",
            index=models.Index(
                condition=models.Q(("voided_by__isnull", False)),
                fields=["voided_by"],
                name="anc_voided_by_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="childexam",
            index=models.Index(
                condition=models.Q(("person__isnull", False)), fields=["person"], name="child_exam_person_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="childexam",
            index=models.Index(
                condition=models.Q(("voided_by__isnull", False)),
                fields=["voided_by"],
                name="child_exam_voided_by_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="contraception",
            index=models.Index(
                condition=models.Q(("person__isnull", False)),
                fields=["person"],
                name="contraception_person_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="contraception",
            index=models.Index(
                condition=models.Q(("voided_by__isnull", False)),
                fields=["voided_by"],
                name="contraception_voided_by_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="death",
            index=models.Index(
                condition=models.Q(("person__isnull", False)), fields=["person"], name="death_person_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="death",
            index=models.Index(
                condition=models.Q(("voided_by__isnull", False)),
                fields=["voided_by"],
                name="death_voided_by_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("person__isnull", False)), fields=["person"], name="delivery_person_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("voided_by__isnull", False)),
                fields=["voided_by"],
                name="delivery_voided_by_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="gynexam",
            index=models.Index(
                condition=models.Q(("person__isnull", False)), fields=["person"], name="gyn_person_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="gynexam",
            index=models.Index(
                condition=models.Q(("voided_by__isnull", False)),
                fields=["voided_by"],
                name="gyn_voided_by_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="newborn",
            index=models.Index(
                condition=models.Q(("person__isnull", False)), fields=["person"], name="newborn_person_idx"
            ),
        ),
    ]
