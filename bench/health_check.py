"""What the per-request health check costs on PostgreSQL: Django's (``SELECT 1`` before each request's first
statement) against ``kangle.core.postgres``'s (the socket read when the connection is busy and quiet).

    KANGLE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<any database> python bench/health_check.py

Each "request" is what a bare one-query view asks of the database: the boundary Django marks between two
requests (``close_if_unusable_or_obsolete``), then one ``SELECT 1`` through Django's cursor. The two checks
run in alternating rounds of 2,000 requests on the same connection; Django's is the same backend told to
ask the server every time (``QUIET_WINDOW = 0``). The figure is each one's median microseconds a request, the
median ratio of the rounds, and how many round trips each check made. Prints one JSON line.
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

REQUESTS = 2000


def main() -> None:
    if "KANGLE_DATABASE_URL" not in os.environ:
        raise SystemExit("KANGLE_DATABASE_URL must name a PostgreSQL database")
    os.environ.setdefault("KANGLE_HOME", tempfile.mkdtemp(prefix="kangle-bench-health-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kangle.settings")
    import django

    django.setup()
    from django.db import connections

    from kangle.core.postgres import base as postgres

    wrapper = connections["default"]
    assert type(wrapper) is postgres.DatabaseWrapper, wrapper
    asked = [0]
    is_usable = postgres.DatabaseWrapper.is_usable

    def counted(self):
        asked[0] += 1
        return is_usable(self)

    postgres.DatabaseWrapper.is_usable = counted
    window = postgres.QUIET_WINDOW
    checks = {"django_select_1": 0.0, "socket": window}

    def requests() -> None:
        for _request in range(REQUESTS):
            wrapper.close_if_unusable_or_obsolete()
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()

    timings: dict[str, list[float]] = {name: [] for name in checks}
    round_trips: dict[str, int] = dict.fromkeys(checks, 0)
    requests()  # warm: the connection opened, the statement prepared
    for _round in range(7):
        for name, quiet_window in checks.items():
            postgres.QUIET_WINDOW = quiet_window
            asked[0] = 0
            started = time.perf_counter()
            requests()
            timings[name].append((time.perf_counter() - started) / REQUESTS * 1e6)
            round_trips[name] += asked[0]
    ratios = [
        socket / django for django, socket in zip(timings["django_select_1"], timings["socket"], strict=True)
    ]
    print(
        json.dumps(
            {
                "bench": "health_check",
                "requests_per_round": REQUESTS,
                "rounds": 7,
                "us_per_request": {
                    name: round(statistics.median(values), 1) for name, values in timings.items()
                },
                "ratio_socket_to_django": round(statistics.median(ratios), 3),
                "health_round_trips": round_trips,
            }
        )
    )


if __name__ == "__main__":
    main()
