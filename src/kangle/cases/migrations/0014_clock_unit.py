from django.db import migrations, models


class Migration(migrations.Migration):
    """Each clock carries its case's unit (``CaseMilestone.org``): added empty, then copied from the cases;
    the next migration makes it required. Stop the web servers and workers of the older version first: they
    start clocks without a unit."""

    dependencies = [
        ("cases", "0013_open_cases_by_unit"),
        ("orgs", "0002_care_home_venue_kind"),
    ]

    operations = [
        migrations.AddField(
            model_name="casemilestone",
            name="org",
            field=models.ForeignKey(
                null=True,
                db_index=False,
                on_delete=models.deletion.PROTECT,
                related_name="+",
                to="orgs.orgunit",
            ),
        ),
        migrations.RunSQL(
            "UPDATE cases_casemilestone SET org_id = "
            "(SELECT cases_case.org_id FROM cases_case WHERE cases_case.id = cases_casemilestone.case_id)",
            migrations.RunSQL.noop,
        ),
    ]
