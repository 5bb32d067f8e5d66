"""A statement compiled once per person, run with its fixed values as parameters or written into its SQL.

    KANGLE_DATABASE_URL=postgresql://…/kangle_lists_bench python bench/fixed_values.py --home <dir>

On the database ``bench_pages.py`` builds (street demo plus 100,000 cases; ``--home`` as for
``request_costs.py``), the street admin of 湖南街道's to-do tallies — the one statement the to-do home runs
for the lines that depend on the person alone — are compiled the way the home compiles them. The same
statement then runs in alternating rounds in two forms through the product's own connection: with the
values as parameters (the subtree's path pattern, the states and statuses: what the home ran before) and
with them written into the SQL (``rawrows.fixed_into_sql``, what it runs now). Each form runs 20 times
before timing, so the driver has prepared both where statements are prepared; the figure is the median of
each form over its rounds, and both forms' rows are compared equal. Prints one JSON line with the plans
PostgreSQL made for each (``pg_prepared_statements``: how often each was planned generic and custom).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import request_costs  # noqa: E402


def _arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", required=True, help="the product home (keys); the database is the URL's")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--runs", type=int, default=50, help="runs of each form per round")
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    args.src = str(request_costs.ROOT / "src")
    request_costs._setup(args)
    from django.db import connection
    from django.utils import timezone

    from kangle.accounts.models import User
    from kangle.core import todo
    from kangle.core.rawrows import prepares_statements

    user = User.objects.get(username="hn_admin")
    now = timezone.now()
    roles = set(user.roles)
    sources = [s for s in todo._sources if s.person_only and (s.roles & roles or user.is_superuser)]
    with_parameters = todo.TallyStatement.compile([source.lines(user, now) for source in sources])
    written_in = with_parameters.values_written_in()
    forms = {"parameters": with_parameters, "written_in": written_in}

    def run(statement) -> list:
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, statement.params)
            return cursor.fetchall()

    if run(with_parameters) != run(written_in):
        raise SystemExit("the two forms read different rows")
    for statement in forms.values():
        for _warm in range(20):
            run(statement)
    timings: dict[str, list[float]] = {name: [] for name in forms}
    for _round in range(args.rounds):
        for name, statement in forms.items():
            started = time.perf_counter()
            for _run in range(args.runs):
                run(statement)
            timings[name].append((time.perf_counter() - started) / args.runs * 1000)
    plans = {}
    if connection.vendor == "postgresql":
        # The server keeps the statement as the driver sent it ($1, $2 … for parameters).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE %s",
                ["%CROSS JOIN%"],
            )
            for statement, generic, custom in cursor.fetchall():
                name = "parameters" if "$1" in statement else "written_in"
                plans[name] = {"generic": generic, "custom": custom}
    print(
        json.dumps(
            {
                "bench": "fixed_values",
                "database": connection.vendor,
                "prepares_statements": prepares_statements(connection),
                "tallies": len(sources),
                "parameters": len(with_parameters.params),
                "rounds": args.rounds,
                "runs": args.runs,
                "ms_median": {name: round(statistics.median(values), 2) for name, values in timings.items()},
                "ms_rounds": {name: [round(v, 2) for v in values] for name, values in timings.items()},
                "plans": plans,
            }
        )
    )


if __name__ == "__main__":
    main()
