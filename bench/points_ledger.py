"""Points ledger at city scale on PostgreSQL: one member's balance, a community ranking for a month, and
`kangle ledger-check`, each against a full scan of the same query in the same run.

    KANGLE_DATABASE_URL=postgresql://…/kangle_bench python bench/points_ledger.py --entries 10000000

Data: the project's demo generator at city scale (``kangle demo --scale city``, run first if the database
has no organisation tree), synthetic member files cloned in SQL up to ``--members``, then ``--entries``
award entries generated here and loaded with COPY (indexes dropped during the load and rebuilt after,
balances filled by one GROUP BY). The entries obey the ledger's invariants (rule table values, caps,
unique keys) so ledger-check must pass. Prints one JSON line.
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
            "FROM members_member m CROSS JOIN generate_series(1, %s) g WHERE m.status = 'approved' "
            "ORDER BY g, m.id LIMIT %s",
            [target // max(1, Member.objects.filter(status="approved").count()) + 1, target - have],
        )


def load_entries(count: int, seed: int, first: int = 0) -> float:
    """COPY ``count`` award entries numbered from ``first``; returns seconds spent. Indexes and unique
    constraints are rebuilt even if the load fails."""
    from django.db import connection

    from kangle.members.models import Member
    from kangle.orgs.models import OrgKind, OrgUnit
    from kangle.points.models import LedgerEntry, PointsRule

    started = time.perf_counter()
    rng = random.Random(seed)
    rule = PointsRule.objects.order_by("effective_from").first()
    members = list(
        Member.objects.values_list("id", "community_id", "microgrid_id", "party_org_id", "org__path")
    )
    grid_of = {}
    for mg_id, path in OrgUnit.objects.filter(kind=OrgKind.MICROGRID).values_list("id", "path"):
        grid_of[mg_id] = path
    grids = dict(OrgUnit.objects.filter(kind=OrgKind.GRID).values_list("path", "id"))

    def grid_for(microgrid_id):
        path = grid_of.get(microgrid_id)
        if not path:
            return None
        parts = path.strip("/").split("/")
        for cut in range(len(parts) - 1, 0, -1):
            candidate = "/" + "/".join(parts[:cut]) + "/"
            if candidate in grids:
                return grids[candidate]
        return None

    member_rows = [(m[0], m[1], grid_for(m[2]), m[3], m[4]) for m in members]
    NULL = "\\N"  # noqa: N806 - COPY's text-format null
    start = max(rule.effective_from, dt.datetime(2021, 1, 1, tzinfo=dt.UTC))
    days = 5 * 365
    per_member = count // len(member_rows) + 1
    table = LedgerEntry._meta.db_table
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
        # Drop every secondary index and unique constraint for the load; rebuild them from their definitions.
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
            written = 0
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                buffer = io.StringIO()
                for member_id, community_id, grid_id, party_org_id, org_path in member_rows:
                    # Distinct days per member keep every day's and month's total within the caps.
                    picks = rng.sample(range(days), min(per_member, days))
                    for day_index in picks:
                        if written >= count:
                            break
                        difficulty = rng.randint(1, 5)
                        minutes = rng.choice((30, 60, 90, 120, 180, 240, 360, 480))
                        points = rule.points_for(difficulty, minutes)
                        at = start + dt.timedelta(days=day_index, hours=rng.randint(1, 10))
                        number = first + written
                        buffer.write(
                            f"{member_id}\taward\t{points}\taward:bench:{number}\tbench\t{number}\t{rule.pk}\t"
                            f"{rule.version}\t{difficulty}\t{minutes}\t{points}\t{at.isoformat()}\t"
                            f"{(at + dt.timedelta(hours=8)).date().isoformat()}\t{at.isoformat()}\t\t{{}}\t"
                            f"{community_id}\t{grid_id or NULL}\t{party_org_id or NULL}\t{org_path}\n"
                        )
                        written += 1
                    if buffer.tell() > 8_000_000:
                        copy.write(buffer.getvalue())
                        buffer = io.StringIO()
                    if written >= count:
                        break
                copy.write(buffer.getvalue())
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
            for name, definition in constraints:
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
            for _name, definition in indexes:
                cursor.execute(definition)
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
    args = parser.parse_args()
    setup()
    ensure_demo()

    from django.core.management import call_command
    from django.db.models import Count

    from kangle.members.models import Member
    from kangle.points import selectors, services
    from kangle.points.models import LedgerEntry

    ensure_members(args.members)
    load_seconds = None
    if LedgerEntry.objects.filter(source_type="bench").count() < args.entries:
        existing = LedgerEntry.objects.filter(source_type="bench").count()
        load_seconds = load_entries(args.entries - existing, args.seed + existing, first=existing)
    total = LedgerEntry.objects.count()

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

    began = time.perf_counter()
    try:
        call_command("ledger_check", stdout=io.StringIO())
        check_ok = True
    except SystemExit:
        check_ok = False
    check_seconds = time.perf_counter() - began

    print(
        json.dumps(
            {
                "bench": "points_ledger",
                "database": "postgresql",
                "entries": total,
                "members": Member.objects.count(),
                "load_seconds": round(load_seconds, 1) if load_seconds else None,
                "balance_ms": round(balance_ms, 3),
                "balance_full_scan_ms": round(balance_scan_ms, 1),
                "balance_ratio": round(balance_ms / balance_scan_ms, 5),
                "cached_balance_ms": round(cached_ms, 3),
                "ranking_ms": round(ranking_ms, 2),
                "ranking_entries_in_period": in_month,
                "ranking_full_scan_ms": round(ranking_scan_ms, 1),
                "ranking_ratio": round(ranking_ms / ranking_scan_ms, 5),
                "ledger_check_seconds": round(check_seconds, 1),
                "ledger_check_passed": check_ok,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
