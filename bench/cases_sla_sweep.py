"""SLA sweep over many cases (open and closed) on PostgreSQL: the indexed range scan vs the same scan
without the index, in one process and one database.

    KANGLE_DATABASE_URL=postgresql://…/kangle_cases python bench/cases_sla_sweep.py --cases 1000000

Builds (once; re-used when already present) the demo organisation tree and ``--cases`` termite cases with
two clocks each through ``kangle.demo.cases.bulk_cases_sql`` (generated inside PostgreSQL):
``--open-share`` of them open with due times
spread around the bench's "now", the rest closed. Then measures, median of ``--repeat`` runs:

- ``scan_ms``: one page of the sweep's query (rows whose due time has passed) served by the partial index;
- ``baseline_ms``: the same query with index scans switched off for the session (a sequential scan);
- ``idle_tick_ms``: a whole ``sla_sweep`` when nothing is due (the cost of every worker tick);
- ``sweep_rows_per_s``: a real sweep that warns, breaches and escalates everything due (run last, once,
  inside a transaction that is rolled back so the data stays reusable); ``notices`` counts the outbox rows
  it wrote in that transaction.

The data is re-used by every later run with the same ``--cases``. ``--staff`` gives every area an area
admin and every street a street admin (kept in the data), so warnings and escalations write notices as on
a real street. Each run starts with ``VACUUM ANALYZE`` of the tables the sweep writes (``--no-vacuum`` to
skip it): the rolled-back sweeps of earlier runs leave dead rows behind, which would otherwise make each run
slower than the last.

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kangle.settings")
os.environ.setdefault("KANGLE_LOG_LEVEL", "WARNING")
os.environ.setdefault("KANGLE_SMS_BACKEND", "memory")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from kangle.accounts.models import RoleAssignment, User  # noqa: E402
from kangle.cases import jobs  # noqa: E402
from kangle.cases.models import Case, CaseMilestone  # noqa: E402
from kangle.core.roles import Role  # noqa: E402
from kangle.notify.models import OutboxMessage  # noqa: E402
from kangle.orgs.models import OrgUnit  # noqa: E402

NOW = dt.datetime(2026, 6, 20, 12, 0, tzinfo=dt.UTC)
PAGE = 500


def build(count: int, open_share: float) -> float:
    from kangle import demo
    from kangle.demo.cases import bulk_cases_sql

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if not OrgUnit.objects.exists():
        demo.build(scale="street", seed=2024, steps=["kangle.demo.orgs.build"])
    have = Case.objects.filter(number__startswith="MB").count()
    if have < count:
        bulk_cases_sql(
            count=count - have,
            open_share=open_share,
            now=NOW,
            progress=lambda n: print(f"  built {have + n:,} cases", file=sys.stderr, flush=True),
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE cases_case; ANALYZE cases_casemilestone;")
    return time.perf_counter() - started


def add_staff() -> int:
    """An area admin for every area and a street admin for every street (idempotent): the people the
    sweep's warnings and escalations are for."""
    made = 0
    for role, kind in ((Role.AREA_ADMIN, "area"), (Role.STREET_ADMIN, "street")):
        for unit in OrgUnit.objects.filter(kind=kind):
            user = User.objects.filter(username=f"bench_{kind}_{unit.code}").first()
            if user is None:
                user = User.objects.create_user(f"bench_{kind}_{unit.code}", None, display_name=unit.name)
            made += RoleAssignment.objects.get_or_create(user=user, role=role, org=unit)[1]
    return made


def vacuum() -> None:
    with connection.cursor() as cursor:
        for table in ("cases_casemilestone", "cases_caseevent", "core_auditevent", "cases_escalation"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute(f"VACUUM ANALYZE {OutboxMessage._meta.db_table}")


def cpu_seconds() -> float | None:
    """CPU time used so far by this process plus its PostgreSQL backend (when the server runs on this
    machine): on a machine shared with other work, rows per CPU second say what the sweep costs, whatever
    the wall clock waited for."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    backend_s = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    own = os.times()
    return backend_s + own.user + own.system


def timed(function, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def scan() -> int:
    return len(jobs.due_ids("due_at", NOW, PAGE))


def scan_without_index() -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; "
            "SET LOCAL enable_indexonlyscan = off;"
        )
        return len(jobs.due_ids("due_at", NOW, PAGE))


def plan(sql_off: bool) -> str:
    query = (
        CaseMilestone.objects.filter(due_at__lte=NOW).order_by("due_at").values_list("pk", flat=True)[:PAGE]
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if sql_off:
            cursor.execute(
                "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; "
                "SET LOCAL enable_indexonlyscan = off;"
            )
        sql, params = query.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        return " | ".join(row[0].strip() for row in cursor.fetchall())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--open-share", type=float, default=0.02)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--batch", type=int, default=jobs.BATCH, help="rows per sweep page")
    parser.add_argument("--staff", action="store_true", help="role holders who receive the notices")
    parser.add_argument("--no-vacuum", action="store_true", help="skip VACUUM ANALYZE before measuring")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("this benchmark needs PostgreSQL: set KANGLE_DATABASE_URL", file=sys.stderr)
        return 2
    build_s = build(args.cases, args.open_share)
    if args.staff:
        add_staff()
    if not args.no_vacuum:
        vacuum()
    staff = RoleAssignment.objects.filter(
        is_active=True, role__in=[Role.AREA_ADMIN, Role.STREET_ADMIN]
    ).count()
    cases = Case.objects.filter(number__startswith="MB").count()
    clocks = CaseMilestone.objects.count()
    due = CaseMilestone.objects.filter(due_at__lte=NOW).count()
    scan()  # warm the cache for both variants alike
    scan_without_index()
    scan_ms = timed(scan, args.repeat)
    baseline_ms = timed(scan_without_index, args.repeat)
    idle_ms = timed(lambda: jobs.sla_sweep(now=NOW - dt.timedelta(days=3650), worker_id="bench"), args.repeat)

    class Rollback(Exception):
        pass

    swept, notices = {}, 0
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    try:
        with transaction.atomic():
            swept = jobs.sla_sweep(now=NOW, worker_id="bench", batch=args.batch).as_dict()
            sweep_s = time.perf_counter() - started
            cpu_after = cpu_seconds()
            notices = OutboxMessage.objects.filter(
                created_at=NOW, reference__startswith="cases.case:"
            ).count()
            raise Rollback
    except Rollback:
        pass
    handled = sum(swept.values())
    cpu_s = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    print(
        json.dumps(
            {
                "bench": "cases_sla_sweep",
                "cases": cases,
                "clocks": clocks,
                "open_share": args.open_share,
                "due_rows": due,
                "page": PAGE,
                "sweep_batch": args.batch,
                "scan_ms": round(scan_ms, 3),
                "baseline_ms": round(baseline_ms, 3),
                "ratio": round(baseline_ms / scan_ms, 1) if scan_ms else None,
                "idle_tick_ms": round(idle_ms, 3),
                "sweep": swept,
                "staff_roles": staff,
                "notices": notices,
                "sweep_s": round(sweep_s, 2),
                "sweep_rows_per_s": round(handled / sweep_s, 1) if sweep_s else None,
                "sweep_cpu_s": round(cpu_s, 2) if cpu_s else None,
                "sweep_rows_per_cpu_s": round(handled / cpu_s, 1) if cpu_s else None,
                "load_average": os.getloadavg()[0],
                "build_s": round(build_s, 1),
                "plan_indexed": plan(False),
                "plan_baseline": plan(True),
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
