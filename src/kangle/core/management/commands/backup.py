"""`kangle backup DIR`: a consistent snapshot of the database and the uploaded files, with a manifest."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kangle.core import backup
from kangle.core.errors import UserError


class Command(BaseCommand):
    help = "Write a backup (database, uploaded files, manifest) into a new folder under DIR."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)

    def handle(self, *args, directory: Path, **options):
        try:
            target = backup.create(directory)
        except UserError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"备份已写入 / backup written: {target}")
        self.stdout.write(
            "请另行保管 KANGLE_FIELD_KEY：没有它无法读取备份中的个人信息 / keep KANGLE_FIELD_KEY separately: "
            "without it the personal data in the backup cannot be read"
        )
