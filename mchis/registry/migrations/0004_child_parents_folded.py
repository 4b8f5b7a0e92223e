"""Search by a parent's name: `parents_folded` = fold(father) | fold(mother), backfilled, trigram-indexed on PG."""

from django.db import migrations, models

BATCH = 5000


def backfill(apps, schema_editor):
    from mchis.registry.search import parents_key

    Child = apps.get_model("registry", "Child")
    connection = schema_editor.connection
    last = 0
    while True:
        rows = list(
            Child.objects.filter(id__gt=last).order_by("id").values_list("id", "father_name", "mother_name")[:BATCH]
        )
        if not rows:
            break
        last = rows[-1][0]
        values = [(parents_key(f or "", m or ""), pk) for pk, f, m in rows if f or m]
        if not values:
            continue
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                marks = ", ".join(["(%s, %s)"] * len(values))
                flat = [x for key, pk in values for x in (pk, key)]
                cursor.execute(
                    "UPDATE registry_child AS c SET parents_folded = v.k "  # noqa: S608 - placeholders only
                    f"FROM (VALUES {marks}) AS v(id, k) WHERE c.id = v.id::bigint",
                    flat,
                )
            else:
                cursor.executemany("UPDATE registry_child SET parents_folded = %s WHERE id = %s", values)


def trigram(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS child_parents_folded_trgm ON registry_child "
            "USING gin (parents_folded gin_trgm_ops)"
        )


def drop_trigram(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS child_parents_folded_trgm")


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_trigram_search")]

    operations = [
        migrations.AddField(
            model_name="child",
            name="parents_folded",
            field=models.CharField(
                blank=True, default="", help_text="fold(father) | fold(mother), for search by parent", max_length=310
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(trigram, drop_trigram),
    ]
