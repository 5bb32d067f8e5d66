import sys

from django.core.management.base import BaseCommand

from kangle.core import health


class Command(BaseCommand):
    help = (
        "Check that kangle can run: database reachable, migrations applied, field key decrypts stored data, "
        "a worker alive, disk space. Exit status 1 when a check fails."
    )

    def handle(self, *args, **options):
        results = health.all_checks()
        for result in results:
            self.stdout.write(result.line())
        if not all(result.ok for result in results):
            sys.exit(1)
