"""Case creation over HTTP: the cases API's POST against a bare one-query view, 1 and 4 clients.

    python bench/bench_cases_create.py --database sqlite
    python bench/bench_cases_create.py --database postgres
    python bench/bench_cases_create.py --database sqlite --reuse /tmp/kangle-bench-cases_create-…

``--reuse`` measures another revision on the data an earlier run built (migrating it first), so a before
and an after run see the same database.

Data: `kangle demo --scale street`. One gunicorn serves everything the way `kangle up` does (2 gthread
workers × 4 threads). wrk (1 thread and 1 connection, then 2 threads and 4 connections) posts a walk-in
termite case as the street desk of 湖南街道 with a bearer token; every request creates a case (201). The bare
view and the creation run in alternating windows (bare, create, bare, create …) with the same connection
count, and the figure is the median of the per-window ratios create req/s ÷ bare req/s, plus the median
creation rate itself. The case numbers are checked for uniqueness at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

LUA = """
wrk.method = "POST"
wrk.body = [[%s]]
wrk.headers["Content-Type"] = "application/json"
"""


def _wrk(url: str, *, seconds: int, clients: int, headers: dict, script: str | None = None) -> dict:
    threads = min(clients, 2)
    command = ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s", "--latency"]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    if script:
        command += ["-s", script]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "p50": dict(re.findall(r"\s+(50|99)%\s+([\d.]+\w+)", output)).get("50"),
    }


def creation_body(desk) -> dict:
    """What the bench posts as ``desk``: a walk-in termite case in the first community of their street."""
    from kangle.cases.models import CaseCategory
    from kangle.orgs.models import OrgUnit
    from kangle.orgs.scope import scope_queryset

    category = (
        CaseCategory.objects.filter(is_active=True, children__isnull=True, code__contains="termite")
        .order_by("pk")
        .first()
    ) or CaseCategory.objects.filter(is_active=True, children__isnull=True).order_by("pk").first()
    org = scope_queryset(desk, OrgUnit.objects.filter(kind="community"), "path").order_by("code").first()
    return {
        "category": category.code,
        "org": org.code,
        "channel": "walk_in",
        "title": "楼道木门框有白蚁蛀痕",
        "description": "三楼楼道木门框发现蛀痕和泥线，请尽快上门查看。",
        "resident_name": "王阿姨",
        "phone": "13900001234",
        "address": "湖南路 100 弄 3 号 302 室",
    }


def _number_ahead() -> None:
    """Beside an older revision (numbers from the case id) this one's numbers start a million ahead, so
    the two never hand out the same number to cases of the same day."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval('cases_case_number_seq', nextval('cases_case_number_seq') + 1000000)"
            )
        else:
            cursor.execute("UPDATE cases_case_number_counter SET value = value + 1000000 WHERE id = 1")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk window")
    parser.add_argument("--rounds", type=int, default=3, help="windows per client count")
    parser.add_argument("--label", default="", help="names the revision in the output")
    parser.add_argument(
        "--start-seconds", type=int, default=180, help="how long the server may take to start"
    )
    parser.add_argument(
        "--reuse",
        default="",
        help="the KANGLE_HOME of an earlier run (SQLite) to measure on its data instead of building anew; "
        "with PostgreSQL, measure on the database kangle_bench_cases_create that an earlier run built",
    )
    parser.add_argument(
        "--compare",
        default="",
        help="another checkout (say, the revision before a change): its server runs beside this one on the "
        "same database and the two create in alternating windows",
    )
    args = parser.parse_args()

    if args.reuse:
        env = harness.prepare_environment("sqlite", "cases_create")
        env["KANGLE_HOME"] = os.environ["KANGLE_HOME"] = args.reuse
        if args.database == "postgres":
            url = "postgresql://postgres@127.0.0.1:5432/kangle_bench_cases_create"
            env["KANGLE_DATABASE_URL"] = os.environ["KANGLE_DATABASE_URL"] = url
    else:
        env = harness.prepare_environment(args.database, "cases_create")
    print("KANGLE_HOME", env["KANGLE_HOME"], file=sys.stderr, flush=True)
    env["DJANGO_SETTINGS_MODULE"] = os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
    harness.setup_django()
    from kangle import demo
    from kangle.accounts.models import User
    from kangle.accounts.services import token_issue
    from kangle.cases.models import Case

    if not args.reuse:
        demo.build(scale="street", seed=7)
    desk = User.objects.get(username="hn_admin")
    _row, token = token_issue(actor=desk, user=desk, name="bench")
    headers = {"Authorization": f"Bearer {token}"}
    body = creation_body(desk)
    script = Path(tempfile.mkdtemp(prefix="kangle-bench-lua-")) / "create.lua"
    script.write_text(LUA % json.dumps(body, ensure_ascii=False), encoding="utf-8")
    before = Case.objects.count()

    if args.compare:
        _number_ahead()
    results: dict[str, dict] = {}
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(harness.gunicorn(env, start_seconds=args.start_seconds))
        other = (
            stack.enter_context(
                harness.gunicorn(env, start_seconds=args.start_seconds, root=Path(args.compare))
            )
            if args.compare
            else None
        )
        create = {"this": base + "/api/v1/cases/"} | ({"other": other + "/api/v1/cases/"} if other else {})
        _wrk(base + "/bench/bare", seconds=2, clients=4, headers={})
        for url in create.values():
            _wrk(url, seconds=2, clients=1, headers=headers, script=str(script))  # warm up
        for clients in (1, 4):
            rps: dict[str, list[float]] = {"bare": [], **{name: [] for name in create}}
            errors, p50 = 0, {}
            for _round in range(args.rounds):
                bare = _wrk(base + "/bench/bare", seconds=args.seconds, clients=clients, headers={})
                rps["bare"].append(bare["rps"])
                errors += bare["non_2xx"]
                for name, url in create.items():
                    made = _wrk(
                        url, seconds=args.seconds, clients=clients, headers=headers, script=str(script)
                    )
                    rps[name].append(made["rps"])
                    errors += made["non_2xx"]
                    p50[name] = made["p50"]
            row = {
                "create_rps": round(statistics.median(rps["this"]), 1),
                "bare_rps": round(statistics.median(rps["bare"]), 1),
                "ratio": round(
                    statistics.median(a / b for a, b in zip(rps["this"], rps["bare"], strict=True)), 3
                ),
                "p50": p50["this"],
                "errors": errors,
            }
            if other:
                row["other_create_rps"] = round(statistics.median(rps["other"]), 1)
                row["other_p50"] = p50["other"]
                row["this_vs_other"] = round(
                    statistics.median(a / b for a, b in zip(rps["this"], rps["other"], strict=True)), 3
                )
            results[f"clients_{clients}"] = row
            print(clients, row, file=sys.stderr, flush=True)

    created = Case.objects.count() - before
    numbers = Case.objects.values_list("number", flat=True)
    harness.emit(
        {
            "bench": "cases_create",
            "label": args.label,
            "database": args.database,
            "scale": "street",
            "window_s": args.seconds,
            "rounds": args.rounds,
            "created": created,
            "numbers_unique": len(set(numbers)) == len(numbers),
            **results,
        }
    )


if __name__ == "__main__":
    main()
