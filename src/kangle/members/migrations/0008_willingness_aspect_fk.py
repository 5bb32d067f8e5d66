"""Member willingness points at the catalogue's aspect table (step 3 of 3): the code column goes, the
reference takes its name and becomes required, and a member wants an aspect at most once again. The old
matching index on the code column (posts 0004) goes with the column; its replacement (aspect, member) lets
members-for-post read the members wanting an aspect from the index alone."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("members", "0007_willingness_map_aspects")]

    operations = [
        migrations.RunSQL("DROP INDEX IF EXISTS posts_match_willing_idx", migrations.RunSQL.noop),
        migrations.RemoveField(model_name="memberwillingness", name="aspect"),
        migrations.RenameField(model_name="memberwillingness", old_name="aspect_ref", new_name="aspect"),
        migrations.AlterField(
            model_name="memberwillingness",
            name="aspect",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="willing",
                to="posts.serviceaspect",
                verbose_name="aspect",
                db_index=False,
            ),
        ),
        migrations.AddConstraint(
            model_name="memberwillingness",
            constraint=models.UniqueConstraint(fields=("member", "aspect"), name="members_willingness_once"),
        ),
        migrations.AddIndex(
            model_name="memberwillingness",
            index=models.Index(fields=["aspect", "member"], name="members_willing_aspect_idx"),
        ),
    ]
