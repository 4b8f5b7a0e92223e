import django.db.models.deletion
from django.db import migrations, models


def drop_orphans(apps, schema_editor):
    """Dashboards without a unit and items without a favourite were never written by the services."""
    apps.get_model("analytics", "DashboardItem").objects.filter(favorite__isnull=True).delete()
    apps.get_model("analytics", "Dashboard").objects.filter(unit__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_initial"),
        ("units", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(drop_orphans, migrations.RunPython.noop),
        migrations.RemoveField(model_name="dashboard", name="role"),
        migrations.RemoveField(model_name="dashboarditem", name="title"),
        migrations.RemoveField(model_name="dashboarditem", name="kind"),
        migrations.RemoveField(model_name="dashboarditem", name="query"),
        migrations.AlterField(
            model_name="dashboard",
            name="unit",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="units.reportingunit"
            ),
        ),
        migrations.AlterField(
            model_name="dashboarditem",
            name="favorite",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="analytics.favorite"
            ),
        ),
    ]
