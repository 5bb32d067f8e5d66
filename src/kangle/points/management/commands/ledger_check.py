"""`kangle ledger-check`: prove the points ledger's invariants; exit 1 on any violation."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from kangle.points.checks import INVARIANTS, PASSES


class Command(BaseCommand):
    help = "Verify every invariant of the points ledger (exit status 1 on a violation)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        found: dict[str, tuple[list[str], float]] = {}
        for label, run in PASSES:
            began = time.perf_counter()
            results = run()
            elapsed = time.perf_counter() - began
            self.stdout.write(f"     {label} ({elapsed:.2f}s)")
            for name, problems in results:
                found[name] = (problems, elapsed)
        failed = 0
        for name in INVARIANTS:
            problems, _elapsed = found[name]
            if problems:
                failed += 1
                self.stdout.write(f"FAIL {name}")
                for problem in problems:
                    self.stdout.write(f"  - {problem}")
            else:
                self.stdout.write(f"ok   {name}")
        total = time.perf_counter() - started
        if failed:
            self.stdout.write(
                f"积分流水校验失败：{failed} 项 / ledger check failed: {failed} invariant(s) ({total:.2f}s)"
            )
            raise SystemExit(1)
        self.stdout.write(f"积分流水校验通过 / ledger check passed ({total:.2f}s)")
