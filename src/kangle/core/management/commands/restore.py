"""`kangle restore BACKUP`: put a backup back, then verify row counts and the points ledger."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from kangle.core import backup
from kangle.core.errors import UserError

# Rows `migrate` itself writes: a database holding only these is empty.
MIGRATE_ROWS = {"contenttypes.ContentType", "auth.Permission"}


class Command(BaseCommand):
    help = "Replace this database and the uploaded files with a backup made by `kangle backup`."

    def add_arguments(self, parser):
        parser.add_argument("source", type=Path, metavar="BACKUP")
        parser.add_argument("--yes", action="store_true", help="replace a database that already holds data")

    def handle(self, *args, source: Path, yes: bool, **options):
        try:
            has_data = any(count for label, count in backup.row_counts().items() if label not in MIGRATE_ROWS)
        except DatabaseError:  # no tables yet: an empty database
            has_data = False
        if has_data and not yes:
            raise CommandError(
                "数据库中已有数据；确认要用备份替换时加 --yes / the database holds data; add --yes to replace it"
            )
        try:
            manifest = backup.restore(source)
        except UserError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"已从 {source} 恢复（{manifest['created_at']}），行数一致 / restored from {source} "
            f"({manifest['created_at']}); row counts match"
        )
