from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0014_clock_unit"),
    ]

    operations = [
        migrations.AlterField(
            model_name="casemilestone",
            name="org",
            field=models.ForeignKey(
                db_index=False,
                on_delete=models.deletion.PROTECT,
                related_name="+",
                to="orgs.orgunit",
            ),
        ),
        migrations.RemoveIndex(
            model_name="casemilestone",
            name="cases_cm_warn_idx",
        ),
        migrations.AddIndex(
            model_name="casemilestone",
            index=models.Index(
                condition=models.Q(("warn_at__isnull", False)),
                fields=["warn_at", "due_at"],
                name="cases_cm_warn_idx",
            ),
        ),
    ]
