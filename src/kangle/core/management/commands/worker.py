import sys

from django.core.management.base import BaseCommand

from kangle.core import health
from kangle.core.worker import KangleWorker


class Command(BaseCommand):
    help = "Run queued tasks and periodic jobs (SLA sweep, reminders, outbox delivery) until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
        parser.add_argument(
            "--once", action="store_true", help="run one round and exit (for scripts and tests)"
        )

    def handle(self, *args, interval, once, **options):
        # Refuse to start on a database it cannot use: one line saying why, not a traceback per loop.
        failed = [result for result in health.startup_checks() if not result.ok]
        if failed:
            sys.stderr.write(f"kangle worker: {failed[0].message}\n")
            sys.exit(2)
        worker = KangleWorker(interval=interval)
        if once:
            worker.run_once()
        else:
            worker.run()
