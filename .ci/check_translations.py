"""Fail when a zh_Hans catalogue has an untranslated or fuzzy entry, or a compiled .mo is stale.

The product speaks zh-hans by default and message ids are English, so a missing translation would show
English to a Chinese user: CI refuses it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def problems_in(po: Path) -> list[str]:
    found = []
    # msgfmt counts entries itself, so wrapped (multi-line) message ids are counted too.
    statistics = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    untranslated = re.search(r"(\d+) untranslated", statistics)
    fuzzy = re.search(r"(\d+) fuzzy", statistics)
    if untranslated or fuzzy:
        found.append(f"{po}: {statistics.strip()}")
    mo = po.with_suffix(".mo")
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "fresh.mo"
        subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(po)], check=True)
        if not mo.exists() or mo.read_bytes() != fresh.read_bytes():
            found.append(
                f"{mo}: missing or stale; run `kangle manage compilemessages` in the app folder and commit it"
            )
    return found


def main() -> int:
    catalogues = sorted(ROOT.glob("src/kangle/*/locale/zh_Hans/LC_MESSAGES/django.po"))
    if not catalogues:
        print("no zh_Hans catalogues found")
        return 1
    problems = [problem for po in catalogues for problem in problems_in(po)]
    for problem in problems:
        print(problem)
    print(f"{len(catalogues)} catalogues checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
