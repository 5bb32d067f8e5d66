"""Lists and details of the product against a bare one-query view in the same server, alternating windows.

    python bench/bench_pages.py --database postgres --cases 100000
    python bench/bench_pages.py --database sqlite            # street scale, the demo's own cases

Data: `kangle demo --scale street`, plus ``--cases`` termite cases generated in the database (PostgreSQL, each
with its timeline) or with ``bulk_create`` (SQLite, without), 20 % of them open. One gunicorn serves
everything the way `kangle up` does (2 gthread workers × 4 threads). wrk drives the bare view and each target
in alternating windows (bare, target, bare, target …) so both see the same machine load; the figure per target
is the median of the per-window ratios target req/s ÷ bare req/s. Each window is one in which both workers
answered their share (``harness.balanced_wrk``): a window whose connections all went to one worker runs at a
third of the rate and is taken again; ``retaken`` counts those. The API is called with a bearer token
(integrations), the pages with a signed-in street admin's session cookie; "bare, signed in" is the same
one-query view behind the session and user loading, i.e. the ceiling every staff page has; "bare layout" is the
workbench layout around an empty page behind the same session, the floor every staff page stands on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

WORKERS = 2  # as `kangle up` serves


def page_targets(case_number: str, member_pk: int) -> dict[str, tuple[str, str]]:
    """name → (path, auth): auth is "token" (bearer) or "session" (cookie); cases as the street admin of
    湖南街道 (where the demo's cases are), members and units as the one of 康健街道 (where its members are)."""
    return {
        "bare_signed_in": ("/bench/bare-user", "session"),
        "bare_layout": ("/bench/bare-layout", "case_session"),  # the workbench layout around nothing
        "case_list_api": ("/api/v1/cases/?status=open", "case_token"),
        "case_list_page": ("/cases/desk/", "case_session"),
        "case_detail_api": (f"/api/v1/cases/{case_number}", "case_token"),
        "case_detail_page": (f"/cases/desk/{case_number}/", "case_session"),
        "member_list_api": ("/api/v1/members/", "token"),
        "member_list_page": ("/members/", "session"),
        "member_detail_api": (f"/api/v1/members/{member_pk}", "token"),
        "org_units_api": ("/api/v1/orgs/units?under=KJ-C01", "token"),
        "todo_home": ("/", "case_session"),  # the workbench home: the to-do list over the street's cases
    }


def signed_in_targets() -> tuple[dict[str, dict[str, str]], dict[str, tuple[str, str]]]:
    """The request headers of each kind of caller (bearer token or session cookie, for the two street
    admins) and the targets they call, on the demo data already built."""
    from django.conf import settings
    from django.test import Client

    from kangle.accounts.models import User
    from kangle.accounts.services import token_issue
    from kangle.cases.models import Case
    from kangle.members.models import Member
    from kangle.orgs.scope import scope_queryset

    auth = {}
    for prefix, username in (("", "kj_admin"), ("case_", "hn_admin")):
        user = User.objects.get(username=username)
        _row, token = token_issue(actor=user, user=user, name="bench")
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        auth[f"{prefix}token"] = {"Authorization": f"Bearer {token}"}
        auth[f"{prefix}session"] = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"}
    visible = scope_queryset(User.objects.get(username="hn_admin"), Case.objects.all())
    newest = visible.order_by("-reported_at", "-id").values_list("number", flat=True).first()
    admin = User.objects.get(username="kj_admin")
    member_pk = scope_queryset(admin, Member.objects.order_by("pk")).values_list("pk", flat=True).first()
    return auth, page_targets(newest, member_pk)


def _build(database: str, cases: int) -> float:
    from kangle import demo
    from kangle.demo.cases import bulk_cases, bulk_cases_sql

    started = time.monotonic()
    demo.build(scale="street", seed=7)
    if cases:
        now = dt.datetime.now(dt.UTC)
        if database == "postgres":
            bulk_cases_sql(count=cases, open_share=0.2, now=now, timelines=True)
        else:
            bulk_cases(count=cases, open_share=0.2, now=now)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return time.monotonic() - started


def _sweep_until_done() -> dict[str, int]:
    """What the SLA sweep did until it found nothing more (the whole backlog, once)."""
    from django.db import connection

    from kangle.cases.jobs import sla_sweep

    done: dict[str, int] = {}
    while True:
        page = sla_sweep(worker_id="bench").as_dict()
        for name, count in page.items():
            done[name] = done.get(name, 0) + count
        if not any(page.values()):
            break
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--cases", type=int, default=None, help="bulk cases to add (default 100k on PG)")
    parser.add_argument("--seconds", type=int, default=4, help="length of one wrk window")
    parser.add_argument("--rounds", type=int, default=3, help="windows per target")
    parser.add_argument("--only", default="", help="comma-separated target names")
    parser.add_argument("--tag", default="pages", help="names the benchmark database (kangle_bench_<tag>)")
    parser.add_argument(
        "--dbname", default="", help="PostgreSQL: the benchmark database's name (overrides --tag)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="PostgreSQL: measure on the database a previous run built"
    )
    parser.add_argument(
        "--swept",
        action="store_true",
        help="run the SLA sweep until it has nothing left before measuring: the clocks as a running worker "
        "keeps them (a database built without a worker holds every past warning and breach still to do)",
    )
    args = parser.parse_args()
    cases = args.cases if args.cases is not None else (100_000 if args.database == "postgres" else 0)

    if args.database == "postgres" and (args.reuse or args.dbname):
        name = args.dbname or f"kangle_bench_{args.tag}"
        if not args.reuse:
            for statement in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
                subprocess.run(
                    ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", statement, "postgres"], check=True
                )
        env = harness.prepare_environment("sqlite", args.tag)  # a home and keys; the URL below wins
        env["KANGLE_DATABASE_URL"] = os.environ["KANGLE_DATABASE_URL"] = (
            f"postgresql://postgres@127.0.0.1:5432/{name}"
        )
    else:
        env = harness.prepare_environment(args.database, args.tag)
    env["DJANGO_SETTINGS_MODULE"] = os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
    harness.setup_django()

    from kangle.accounts.models import User
    from kangle.cases.models import Case
    from kangle.members.models import Member
    from kangle.orgs.scope import scope_queryset

    build_seconds = 0.0 if args.reuse else _build(args.database, cases)
    swept = _sweep_until_done() if args.swept else None
    auth, targets = signed_in_targets()
    visible = scope_queryset(User.objects.get(username="hn_admin"), Case.objects.all())
    if args.only:
        wanted = set(args.only.split(","))
        targets = {name: target for name, target in targets.items() if name in wanted}

    results: dict[str, dict] = {}
    with harness.gunicorn(env, workers=WORKERS) as base:
        harness.wrk(base + "/bench/bare", seconds=2)
        for name, (path, how) in targets.items():
            harness.wrk(base + path, seconds=1, headers=auth[how])  # warm up
            ratios, bare_rps, target_rps, errors, retaken, unbalanced = [], [], [], 0, 0, 0
            for _round in range(args.rounds):
                bare = harness.balanced_wrk(base + "/bench/bare", workers=WORKERS, seconds=args.seconds)
                target = harness.balanced_wrk(
                    base + path, workers=WORKERS, seconds=args.seconds, headers=auth[how]
                )
                bare_rps.append(bare["rps"])
                target_rps.append(target["rps"])
                ratios.append(target["rps"] / bare["rps"])
                errors += target["non_2xx"] + bare["non_2xx"]
                retaken += bare["tries"] + target["tries"] - 2
                unbalanced += (not bare["balanced"]) + (not target["balanced"])
            results[name] = {
                "ratio": round(statistics.median(ratios), 3),
                "rps": round(statistics.median(target_rps), 1),
                "bare_rps": round(statistics.median(bare_rps), 1),
                "p50": target["p50"],
                "errors": errors,
                "retaken": retaken,
                "unbalanced": unbalanced,  # windows still lopsided after every try
            }
            print(name, results[name], file=sys.stderr, flush=True)

    harness.emit(
        {
            "bench": "pages",
            "database": args.database,
            "scale": "street",
            "cases": Case.objects.count(),
            "cases_in_list_scope": visible.count(),
            "members": Member.objects.count(),
            "build_s": round(build_seconds, 1),
            "swept": swept,
            "window_s": args.seconds,
            "rounds": args.rounds,
            "targets": results,
        }
    )


if __name__ == "__main__":
    main()
