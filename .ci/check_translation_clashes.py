"""Fail when two apps translate the same English message id differently, or differently from the glossary.

Django merges every app's catalogue into one per language, so the first app (in INSTALLED_APPS order) wins
and the other app silently shows the wrong words. Give one of them a more specific id or a context
(pgettext) instead. docs/glossary.md's "Shared screen words" table fixes the translation of the ids several
apps share; a catalogue that translates one of them otherwise fails too.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "docs" / "glossary.md"
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
    problems = glossary_problems(seen)
    for problem in problems:
        print("glossary", problem)
    print(f"{len(seen)} message ids, {len(clashes)} clashes, {len(problems)} glossary problems")
    return 1 if clashes or problems else 0


def glossary_words() -> dict[str, str]:
    """English message id → 中文, from the glossary's "Shared screen words" table."""
    text = GLOSSARY.read_text(encoding="utf-8").split("## Shared screen words", 1)[1]
    words = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and line.startswith("| ") and cells[0] not in {"English (message id)", "---"}:
            words[cells[0]] = cells[1]
    return words


def glossary_problems(seen: dict[tuple[str, str], tuple[str, str]]) -> list[str]:
    words = glossary_words()
    if not words:
        return ["docs/glossary.md has no shared screen words"]
    problems = []
    for msgid, chinese in words.items():
        found = seen.get(("", msgid))
        if found is None:
            problems.append(f"{msgid!r} is in the glossary but in no catalogue")
        elif found[1] != chinese:
            problems.append(f"{msgid!r}: glossary → {chinese!r}, {found[0]} → {found[1]!r}")
    return problems


if __name__ == "__main__":
    sys.exit(main())
