"""Points ledger at city scale on PostgreSQL: one member's balance, a community ranking for a month, and
`kangle ledger-check`, each against a full scan of the same query in the same run.

    KANGLE_DATABASE_URL=postgresql://…/kangle_bench python bench/points_ledger.py --entries 10000000

Data: the project's demo generator at city scale (``kangle demo --scale city``, run first if the database
has no organisation tree), synthetic member files cloned in SQL up to ``--members``, then ``--entries``
award entries generated inside PostgreSQL by one INSERT … SELECT over ``generate_series`` (indexes
dropped during the load and rebuilt after, balances filled by one GROUP BY). The entries obey the ledger's invariants (rule table values, caps,
unique keys) so ledger-check must pass. Prints one JSON line.

``kangle ledger-check`` is timed as the product runs it, then (unless ``--no-baseline``) the previous
per-invariant queries kept in ``bench/ledger_check_baseline.py`` over the same rows, in the same run;
``check_ratio`` is the first over the second. ``--check-only`` skips the balance and ranking timings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kangle.settings")


def setup() -> None:
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench/points_ledger.py needs PostgreSQL: set KANGLE_DATABASE_URL")


def ensure_demo() -> None:
    from django.core.management import call_command

    from kangle.orgs.models import OrgUnit

    call_command("migrate", interactive=False, verbosity=0)
    if not OrgUnit.objects.exists():
        from kangle import demo

        demo.build(scale="city")


def ensure_members(target: int) -> None:
    """Clone approved member files (new phone hashes) until there are ``target`` rows."""
    from django.db import connection

    from kangle.members.models import Member

    have = Member.objects.count()
    if have >= target:
        return
    cols = [f.column for f in Member._meta.concrete_fields if f.column not in ("id", "phone_hash", "id_hash")]
    collist = ", ".join(f'"{c}"' for c in cols)
    select = ", ".join(f'm."{c}"' for c in cols)
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO members_member ({collist}, "phone_hash", "id_hash") '  # noqa: S608
            f"SELECT {select}, md5('bench' || g::text || '-' || m.id::text), NULL "
            "FROM members_member m CROSS JOIN generate_series(1, %s::int) g WHERE m.status = 'approved' "
            "ORDER BY g, m.id LIMIT %s",
            [target // max(1, Member.objects.filter(status="approved").count()) + 1, target - have],
        )


MINUTES = (30, 60, 90, 120, 180, 240, 360, 480)
DAYS = 5 * 365
PER_MEMBER_MAX = 100  # entries 17 days apart on a 5-year circle: at most 2 a month, within every cap


def load_entries(count: int, seed: int, first: int = 0) -> float:
    """Generate award entries ``first`` … ``first + count - 1`` inside PostgreSQL (one INSERT … SELECT over
    ``generate_series``); returns seconds spent. Indexes and unique constraints are dropped for the load and
    rebuilt from their definitions even if it fails; balances are filled by one GROUP BY.

    Entry ``n`` goes to member ``n mod members`` as that member's ``g = n div members``-th entry, on day
    ``(member * 37 + g * 17 + seed) mod 1825`` of five years: a member's entries lie at least 17 days apart
    (distinct days, at most two a month), so every daily and monthly cap holds. Difficulty and duration
    cycle through the rule's table; the points are the table's values for them. A later load continues the
    numbering (same ``seed``), so the caps still hold."""
    from django.conf import settings
    from django.db import connection

    from kangle.members.models import Member
    from kangle.orgs.models import OrgKind, OrgUnit
    from kangle.points.models import LedgerEntry, PointsRule

    started = time.perf_counter()
    rule = PointsRule.objects.order_by("effective_from").first()
    members = Member.objects.count()
    if first + count > members * PER_MEMBER_MAX:
        raise SystemExit(
            f"{first + count} entries need at least {count // PER_MEMBER_MAX} members (--members)"
        )
    combos = ", ".join(
        f"({index}, {difficulty}, {minutes}, {rule.points_for(difficulty, minutes)})"
        for index, (difficulty, minutes) in enumerate(
            (difficulty, minutes) for difficulty in range(1, 6) for minutes in MINUTES
        )
    )
    start = max(rule.effective_from, dt.datetime(2021, 1, 1, tzinfo=dt.UTC))
    table, units = LedgerEntry._meta.db_table, OrgUnit._meta.db_table
    columns = [
        "member_id",
        "kind",
        "points",
        "idempotency_key",
        "source_type",
        "source_id",
        "rule_id",
        "rule_version",
        "difficulty",
        "duration_minutes",
        "base_points",
        "occurred_at",
        "occurred_on",
        "recorded_at",
        "reason",
        "evidence",
        "community_id",
        "grid_id",
        "party_org_id",
        "org_path",
    ]
    with connection.cursor() as cursor:
        # Each member's ranking dimensions, as ``member_dimensions`` gives them (grid: the microgrid's
        # nearest grid ancestor), numbered 0…members-1.
        cursor.execute("DROP TABLE IF EXISTS bench_ledger_members")
        cursor.execute(
            "CREATE TEMP TABLE bench_ledger_members AS "  # noqa: S608
            "SELECT (row_number() OVER (ORDER BY m.id) - 1)::int AS rn, m.id AS member_id, m.community_id, "
            "grid.id AS grid_id, m.party_org_id, o.path AS org_path "
            f"FROM {Member._meta.db_table} m JOIN {units} o ON o.id = m.org_id "
            f"LEFT JOIN {units} mg ON mg.id = m.microgrid_id "
            f"LEFT JOIN LATERAL (SELECT g.id FROM {units} g WHERE g.kind = %s AND mg.path LIKE g.path || '%%' "
            "ORDER BY length(g.path) DESC LIMIT 1) grid ON true",
            [OrgKind.GRID.value],
        )
        cursor.execute("CREATE UNIQUE INDEX ON bench_ledger_members (rn)")
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'u'",
            [table],
        )
        constraints = cursor.fetchall()
        for name, _definition in constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT LIKE %s",
            [table, "%_pkey"],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        try:
            # The rows reference existing members, rule and units by construction: skip the per-row
            # foreign-key triggers during the load (needs a superuser, as the bench database owner is).
            cursor.execute("SET session_replication_role = replica")
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                "SELECT b.member_id, 'award', c.points, 'award:bench:' || n, 'bench', n::text, "
                " %(rule)s, %(version)s, c.difficulty, c.minutes, c.points, at, "
                "(at AT TIME ZONE %(tz)s)::date, at, '', '{}'::jsonb, b.community_id, b.grid_id, "
                "b.party_org_id, b.org_path "
                "FROM generate_series(%(first)s::bigint, %(first)s::bigint + %(count)s - 1) AS n "
                "JOIN bench_ledger_members b ON b.rn = n %% %(members)s "
                f"JOIN (VALUES {combos}) AS c (k, difficulty, minutes, points) "
                "ON c.k = (n * 7 + %(seed)s) %% 40 "
                "CROSS JOIN LATERAL (SELECT %(start)s::timestamptz "
                "+ make_interval(days => ((b.rn * 37 + (n / %(members)s) * 17 + %(seed)s) %% %(days)s)::int, "
                "hours => (1 + n %% 10)::int) AS at) AS t",
                {
                    "first": first,
                    "rule": rule.pk,
                    "version": rule.version,
                    "tz": settings.TIME_ZONE,
                    "count": count,
                    "members": members,
                    "seed": seed,
                    "start": start,
                    "days": DAYS,
                },
            )
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
            for name, definition in constraints:
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
            for _name, definition in indexes:
                cursor.execute(definition)
            cursor.execute("DROP TABLE IF EXISTS bench_ledger_members")
        cursor.execute(
            "INSERT INTO points_balance (member_id, total, entries, hide_from_rankings) "
            f"SELECT member_id, SUM(points), COUNT(*), false FROM {table} GROUP BY member_id "
            "ON CONFLICT (member_id) DO UPDATE SET total = EXCLUDED.total, entries = EXCLUDED.entries"
        )
        cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("VACUUM ANALYZE points_balance")
    return time.perf_counter() - started


def timed(function, repeat: int) -> float:
    """Median milliseconds of ``repeat`` calls (after one warm-up call)."""
    function()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def full_scan(function):
    """The same query with index access switched off: the naive baseline."""
    from django.db import connection, transaction

    def run():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute("SET LOCAL enable_indexonlyscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            function()

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--check-only", action="store_true", help="time only ledger-check (and its baseline), not the reads"
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the old ledger-check as a baseline")
    args = parser.parse_args()
    setup()
    ensure_demo()

    from kangle.members.models import Member
    from kangle.points.models import LedgerEntry

    ensure_members(args.members)
    load_seconds = None
    if LedgerEntry.objects.filter(source_type="bench").count() < args.entries:
        existing = LedgerEntry.objects.filter(source_type="bench").count()
        load_seconds = load_entries(args.entries - existing, args.seed, first=existing)
    total = LedgerEntry.objects.count()

    result = {
        "bench": "points_ledger",
        "database": "postgresql",
        "entries": total,
        "members": Member.objects.count(),
        "load_seconds": round(load_seconds, 1) if load_seconds else None,
    }
    if not args.check_only:
        result.update(time_reads(args))
    result.update(time_check(baseline=not args.no_baseline))
    print(json.dumps(result, ensure_ascii=False))


def time_reads(args) -> dict:
    """One member's balance and a month's community ranking, each against its own full scan."""
    from django.db.models import Count

    from kangle.members.models import Member
    from kangle.points import selectors, services
    from kangle.points.models import LedgerEntry

    rng = random.Random(args.seed)
    ids = list(Member.objects.filter(points_balance__isnull=False).values_list("id", flat=True)[:5000])
    sample = [Member(pk=rng.choice(ids)) for _ in range(args.repeat + 1)]
    cursor_index = iter(range(10**9))

    def one_balance():
        services.balance_of(sample[next(cursor_index) % len(sample)])

    balance_ms = timed(one_balance, args.repeat)
    balance_scan_ms = timed(full_scan(one_balance), 3)
    cached_ms = timed(lambda: selectors.cached_balance(sample[0]), args.repeat)

    community = LedgerEntry.objects.values("community_id").annotate(n=Count("id")).order_by("-n").first()
    last = (
        LedgerEntry.objects.filter(community_id=community["community_id"]).latest("occurred_at").occurred_at
    )
    # A full month a year before the newest entry (the newest month is partial).
    month_start = (last - dt.timedelta(days=365)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    month_end = (month_start + dt.timedelta(days=32)).replace(day=1)
    in_month = LedgerEntry.objects.filter(
        community_id=community["community_id"], occurred_at__gte=month_start, occurred_at__lt=month_end
    ).count()

    def ranking():
        selectors.ranking(
            actor=None,  # the public ranking: no scope filter
            dimension="community",
            unit_id=community["community_id"],
            start=month_start,
            end=month_end,
            limit=20,
        )

    ranking_ms = timed(ranking, args.repeat)
    ranking_scan_ms = timed(full_scan(ranking), 3)

    return {
        "balance_ms": round(balance_ms, 3),
        "balance_full_scan_ms": round(balance_scan_ms, 1),
        "balance_ratio": round(balance_ms / balance_scan_ms, 5),
        "cached_balance_ms": round(cached_ms, 3),
        "ranking_ms": round(ranking_ms, 2),
        "ranking_entries_in_period": in_month,
        "ranking_full_scan_ms": round(ranking_scan_ms, 1),
        "ranking_ratio": round(ranking_ms / ranking_scan_ms, 5),
    }


def time_check(*, baseline: bool) -> dict:
    """``kangle ledger-check`` as the product runs it, and (``baseline``) the previous per-invariant queries
    of ``bench/ledger_check_baseline.py`` over the same rows."""
    from django.core.management import call_command

    began = time.perf_counter()
    report = io.StringIO()
    try:
        call_command("ledger_check", stdout=report)
        check_ok = True
    except SystemExit:
        check_ok = False
    check_seconds = time.perf_counter() - began

    result = {
        "ledger_check_seconds": round(check_seconds, 1),
        "ledger_check_passed": check_ok,
        "ledger_check_report": report.getvalue().splitlines(),
    }
    if baseline:
        from bench import ledger_check_baseline

        seconds, found = {}, 0
        began = time.perf_counter()
        for name, check in ledger_check_baseline.CHECKS:
            step = time.perf_counter()
            found += len(check())
            seconds[name] = round(time.perf_counter() - step, 1)
        result["baseline_check_seconds"] = round(time.perf_counter() - began, 1)
        result["baseline_check_problems"] = found
        result["baseline_check_steps"] = seconds
        result["check_ratio"] = round(check_seconds / result["baseline_check_seconds"], 3)
    return result


if __name__ == "__main__":
    main()
