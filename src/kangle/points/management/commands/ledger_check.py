"""`kangle ledger-check`: prove the points ledger's invariants; exit 1 on any violation."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from kangle.points.checks import CHECKS


class Command(BaseCommand):
    help = "Verify every invariant of the points ledger (exit status 1 on a violation)."

    def handle(self, *args, **options):
        failed = 0
        started = time.perf_counter()
        for name, check in CHECKS:
            began = time.perf_counter()
            problems = check()
            elapsed = time.perf_counter() - began
            if problems:
                failed += 1
                self.stdout.write(f"FAIL {name} ({elapsed:.2f}s)")
                for problem in problems:
                    self.stdout.write(f"  - {problem}")
            else:
                self.stdout.write(f"ok   {name} ({elapsed:.2f}s)")
        total = time.perf_counter() - started
        if failed:
            self.stdout.write(
                f"积分流水校验失败：{failed} 项 / ledger check failed: {failed} invariant(s) ({total:.2f}s)"
            )
            raise SystemExit(1)
        self.stdout.write(f"积分流水校验通过 / ledger check passed ({total:.2f}s)")
