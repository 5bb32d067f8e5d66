"""What reading moments from PostgreSQL costs through Django's cursor and through ``rawrows.reading_cursor``.

    KANGLE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<any database> python bench/timestamp_loading.py

The same query (250 rows of four moments each, what a case list page's rows and clocks hold) is read with
the two cursors in alternating rounds of 200 reads; the figure is each one's median milliseconds per read and
the median ratio of the rounds. The rows are compared too: the two must give the same values and zones.
Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SQL = (
    "SELECT now() - make_interval(mins => g), now() + make_interval(hours => g), "
    "now() - make_interval(days => g), now() FROM generate_series(1, 250) AS g"
)


def main() -> None:
    if "KANGLE_DATABASE_URL" not in os.environ:
        raise SystemExit("KANGLE_DATABASE_URL must name a PostgreSQL database")
    os.environ.setdefault("KANGLE_HOME", tempfile.mkdtemp(prefix="kangle-bench-timestamps-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kangle.settings")
    import django

    django.setup()
    from django.db import connection

    from kangle.core.rawrows import reading_cursor

    def read(cursor_for) -> list:
        with cursor_for(connection) as cursor:
            cursor.execute(SQL)
            return cursor.fetchall()

    plain = lambda conn: conn.cursor()  # noqa: E731 - Django's own cursor, the baseline
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")  # one transaction: now() is the same for both reads compared below
        same = (
            read(plain) == read(reading_cursor)
            and read(reading_cursor)[0][0].tzinfo is read(plain)[0][0].tzinfo
        )
        cursor.execute("COMMIT")
    timings: dict[str, list[float]] = {"django": [], "reading_cursor": []}
    for _round in range(7):
        for name, cursor_for in (("django", plain), ("reading_cursor", reading_cursor)):
            started = time.perf_counter()
            for _read in range(200):
                read(cursor_for)
            timings[name].append((time.perf_counter() - started) / 200 * 1000)
    ratios = [new / old for old, new in zip(timings["django"], timings["reading_cursor"], strict=True)]
    print(
        json.dumps(
            {
                "bench": "timestamp_loading",
                "values_per_read": 1000,
                "same_rows": same,
                "ms_django": round(statistics.median(timings["django"]), 3),
                "ms_reading_cursor": round(statistics.median(timings["reading_cursor"]), 3),
                "ratio": round(statistics.median(ratios), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
