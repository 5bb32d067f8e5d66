"""`kangle import-members FILE COMMUNITY [--commit]`: check a member list, and with --commit import it.

Without --commit it is a dry run: every bad row is printed with its reason and nothing is written. With
--commit the list is imported all or nothing (in this process, not through the worker).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kangle.core.errors import UserError
from kangle.members.importing import import_preview, import_upload, run_commit
from kangle.members.models import ImportStatus
from kangle.orgs.models import OrgUnit


class Command(BaseCommand):
    help = "Check (dry run) or import a member list (.xlsx or .csv, UTF-8 or GBK) into a community or area."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "community", help="code or name of the community (or area / street) to import into"
        )
        parser.add_argument(
            "--commit", action="store_true", help="import the rows when the check finds no problem"
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在 / no such file: {path}")
        unit = (
            OrgUnit.objects.filter(code=options["community"]).first()
            or OrgUnit.objects.filter(name=options["community"]).first()
        )
        if unit is None:
            raise CommandError(f"未知的居民区 / unknown community: {options['community']}")
        try:
            job = import_upload(actor=None, org=unit, filename=path.name, content=path.read_bytes())
            job = import_preview(actor=None, job=job)
        except UserError as exc:
            raise CommandError(str(exc)) from None
        for error in job.errors:
            self.stdout.write(
                f"第 {error['row']} 行 row {error['row']} · {error['field']}: {error['zh']} / {error['en']}"
            )
        bad = len({e["row"] for e in job.errors})
        self.stdout.write(
            f"可导入 {job.good_rows} 行，有问题 {bad} 行 / "
            f"{job.good_rows} rows ready, {bad} rows with problems"
        )
        if not options["commit"]:
            return
        if job.errors:
            raise CommandError("有错误，未导入任何数据 / problems found, nothing imported")
        job = run_commit(job.pk)
        if job.status != ImportStatus.DONE:
            raise CommandError(job.message or "导入失败 / import failed")
        self.stdout.write(f"已导入 {job.created_count} 份档案 / {job.created_count} files imported")
