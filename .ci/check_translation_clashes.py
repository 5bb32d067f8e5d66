"""Fail when two apps translate the same English message id differently.

Django merges every app's catalogue into one per language, so the first app (in INSTALLED_APPS order) wins
and the other app silently shows the wrong words. Give one of them a more specific id or a context
(pgettext) instead.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRY = re.compile(
    r'^(?:msgctxt "(?P<ctx>.*)"\n)?msgid "(?P<id>.*)"\n(?:msgid_plural ".*"\n)?msgstr(?:\[0\])? "(?P<str>.*)"$',
    re.M,
)


def main() -> int:
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    clashes = []
    for po in sorted(ROOT.glob("src/kangle/*/locale/zh_Hans/LC_MESSAGES/django.po")):
        app = po.parts[-5]
        for match in ENTRY.finditer(po.read_text(encoding="utf-8")):
            key = (match["ctx"] or "", match["id"])
            if not key[1]:
                continue
            if key in seen and seen[key][1] != match["str"]:
                clashes.append(f"{key[1]!r}: {seen[key][0]} → {seen[key][1]!r}, {app} → {match['str']!r}")
            seen.setdefault(key, (app, match["str"]))
    for clash in clashes:
        print("clash", clash)
    print(f"{len(seen)} message ids, {len(clashes)} clashes")
    return 1 if clashes else 0


if __name__ == "__main__":
    sys.exit(main())
