"""Deliveries carry the number of days from the birth to the first postnatal visit (derived from the visit dates
the register already holds), so "postnatal care within 2 days" can be counted (issue 15). Existing rows are
filled with one set-based UPDATE; a day count outside 0–42 (never accepted by the validator) stays empty."""

from django.db import migrations, models

TABLE = "registers_delivery"


def fill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        first = "COALESCE(postpartum_week1_date - event_date, postpartum_week2_6_date - event_date)"
    else:
        first = (
            "CAST(COALESCE(julianday(postpartum_week1_date), julianday(postpartum_week2_6_date))"
            " - julianday(event_date) AS INTEGER)"
        )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET postpartum_first_days = {first} "  # noqa: S608 - constant SQL
            "WHERE (postpartum_week1_date IS NOT NULL OR postpartum_week2_6_date IS NOT NULL) "
            f"AND {first} BETWEEN 0 AND 42"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0008_province_code"),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="postpartum_first_days",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
