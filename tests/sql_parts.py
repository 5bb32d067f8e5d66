"""The parts of a statement that reads a list's first page with its count riding along
(``rawrows.rows_and_counts``), for tests that look at one or the other."""

from __future__ import annotations

import re

# A count riding along: ``(SELECT COUNT(*) FROM (…) AS counted0)``; the SQL inside never names "counted".
COUNTED = re.compile(r"\(SELECT COUNT\(\*\) FROM \(.*?\) AS counted\d+\)")


def counts_in(sql: str) -> list[str]:
    """The counts a statement makes: its count subqueries, or the statement itself when it is a count."""
    return COUNTED.findall(sql) or ([sql] if "COUNT(" in sql else [])


def rows_of(sql: str) -> str:
    """The statement without the counts riding along with its rows (each made a constant)."""
    return COUNTED.sub("0", sql)
