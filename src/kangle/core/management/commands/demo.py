import time

from django.core.management.base import BaseCommand, CommandError

from kangle import demo
from kangle.orgs.models import OrgUnit


class Command(BaseCommand):
    help = "Load deterministic demo data (徐汇区: 康健街道 and 湖南街道; more streets at larger scales)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=demo.SCALES, default="street")
        parser.add_argument("--seed", type=int, default=2024)

    def handle(self, *args, scale, seed, **options):
        if OrgUnit.objects.exists():
            raise CommandError("数据库中已有数据，演示数据只能载入空数据库 / the database is not empty; demo data loads only into an empty one")
        started = time.monotonic()
        ctx = demo.build(scale=scale, seed=seed)
        summary = ", ".join(f"{key}={value}" for key, value in ctx.summary.items())
        self.stdout.write(f"demo data ({scale}, seed {seed}) in {time.monotonic() - started:.1f}s: {summary}")
        self.stdout.write(demo.logins_text())
