"""Member willingness points at the catalogue's aspect table (step 1 of 3): a nullable reference beside the old
code column. The mapping runs in its own migration (0007) so that PostgreSQL commits the data before the
columns are altered (0008)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0005_merge_masks_and_import_counts"),
        # The seeded catalogue and the matching indexes on the old code column must exist first.
        ("posts", "0005_alter_post_status"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="memberwillingness", name="members_willingness_once"),
        migrations.AddField(
            model_name="memberwillingness",
            name="aspect_ref",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="posts.serviceaspect",
            ),
        ),
    ]
