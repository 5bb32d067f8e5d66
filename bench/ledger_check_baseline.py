"""The ledger check as it stood before the set-based rewrite (one query per invariant, several passes over
the ledger), kept only as the baseline ``bench/points_ledger.py`` times in the same run as the product's
``kangle ledger-check``. Not used by the product.

Every check returns a list of violations (strings, at most ``LIMIT`` each); an empty list means it holds.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import TruncMonth

from kangle.points.models import Balance, EntryKind, LedgerEntry, PointsRule

LIMIT = 20


def _fmt(rows, template: str) -> list[str]:
    return [template.format(**row) for row in rows[:LIMIT]]


def check_kinds() -> list[str]:
    """Sign and shape of each kind of entry."""
    bad = LedgerEntry.objects.filter(
        Q(kind=EntryKind.AWARD, rule__isnull=True)
        | Q(kind=EntryKind.AWARD, base_points__isnull=True)
        | Q(kind=EntryKind.AWARD, points__lt=0)
        | Q(kind=EntryKind.AWARD, points__gt=F("base_points"))
        | Q(kind=EntryKind.AWARD, base_points__lt=1)
        | Q(kind=EntryKind.AWARD, base_points__gt=5)
        | Q(kind=EntryKind.AWARD) & ~Q(rule_version=F("rule__version"))
        | Q(kind=EntryKind.SPEND, points__gte=0)
        | Q(kind=EntryKind.REFUND, reverses__isnull=True)
        | Q(kind=EntryKind.REVERSAL, reverses__isnull=True)
        | Q(kind=EntryKind.ADJUSTMENT, reason="")
        | ~Q(kind__in=EntryKind.values)
    ).values("pk", "kind", "points")
    return _fmt(list(bad[:LIMIT]), "entry {pk}: malformed {kind} ({points:+d})")


def check_idempotency() -> list[str]:
    dupes = (
        LedgerEntry.objects.values("idempotency_key")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .order_by("idempotency_key")
    )
    return _fmt(list(dupes[:LIMIT]), "idempotency key {idempotency_key} used {n} times")


def check_award_values() -> list[str]:
    """The table of the stored version gives ``base_points`` for the stored difficulty and duration."""
    rules = {rule.pk: rule for rule in PointsRule.objects.all()}
    combos = (
        LedgerEntry.objects.filter(kind=EntryKind.AWARD, rule__isnull=False)
        .values("rule_id", "difficulty", "duration_minutes", "base_points")
        .distinct()
        .order_by()
    )
    problems = []
    for row in combos.iterator(chunk_size=5000):
        rule = rules.get(row["rule_id"])
        try:
            expected = rule.points_for(row["difficulty"], row["duration_minutes"])
        except (TypeError, IndexError, AttributeError):
            expected = None
        if expected != row["base_points"]:
            problems.append(
                f"rule v{rule.version if rule else '?'} gives {expected} for difficulty {row['difficulty']} "
                f"and "
                f"{row['duration_minutes']} min, entries say {row['base_points']}"
            )
            if len(problems) >= LIMIT:
                break
    return problems


def check_rule_in_force() -> list[str]:
    """Each award's version was the one in force at ``occurred_at``: inside [its effective_from, the next
    version's effective_from). One scan with one condition per version."""
    rules = list(
        PointsRule.objects.order_by("org_id", "effective_from").values("pk", "org_id", "effective_from")
    )
    outside = Q()
    for index, rule in enumerate(rules):
        following = rules[index + 1] if index + 1 < len(rules) else None
        window = Q(occurred_at__lt=rule["effective_from"])
        if following is not None and following["org_id"] == rule["org_id"]:
            window |= Q(occurred_at__gte=following["effective_from"])
        outside |= Q(rule_id=rule["pk"]) & window
    if not rules:
        return []
    bad = LedgerEntry.objects.filter(kind=EntryKind.AWARD).filter(outside).values("pk", "rule_version")
    return _fmt(
        list(bad[:LIMIT]), "entry {pk}: rule v{rule_version} was not in force when the service happened"
    )


def check_reversals() -> list[str]:
    """A reversal negates one award of the same member; a refund negates one spend of the same member."""
    bad = (
        LedgerEntry.objects.filter(kind__in=(EntryKind.REVERSAL, EntryKind.REFUND), reverses__isnull=False)
        .filter(
            ~Q(points=-F("reverses__points"))
            | ~Q(member=F("reverses__member"))
            | Q(kind=EntryKind.REVERSAL) & ~Q(reverses__kind=EntryKind.AWARD)
            | Q(kind=EntryKind.REFUND) & ~Q(reverses__kind=EntryKind.SPEND)
        )
        .values("pk", "kind")
    )
    return _fmt(list(bad[:LIMIT]), "entry {pk}: {kind} does not negate what it reverses")


def check_caps() -> list[str]:
    """Net awards per member and local day / month stay within the largest cap of the versions used."""
    caps = PointsRule.objects.aggregate(d=Max("daily_cap"), m=Max("monthly_cap"))
    if caps["d"] is None:
        return []
    net = LedgerEntry.objects.filter(kind__in=(EntryKind.AWARD, EntryKind.REVERSAL))
    days = (
        net.values("member_id", "occurred_on")
        .annotate(total=Sum("points"))
        .filter(total__gt=caps["d"])
        .order_by("member_id", "occurred_on")
    )
    problems = _fmt(
        list(days[:LIMIT]), "member {member_id}: {total} points on {occurred_on} exceed the daily cap"
    )
    months = (
        net.annotate(month=TruncMonth("occurred_on"))
        .values("member_id", "month")
        .annotate(total=Sum("points"))
        .filter(total__gt=caps["m"])
        .order_by("member_id", "month")
    )
    problems += _fmt(
        list(months[:LIMIT]), "member {member_id}: {total} points in {month} exceed the monthly cap"
    )
    return problems[:LIMIT]


def check_spends() -> list[str]:
    """No spend took the balance below zero (running sum in entry order, for members who ever spent)."""
    from django.db import connection

    table = LedgerEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, member_id, after FROM (SELECT id, member_id, kind, SUM(points) OVER "  # noqa: S608
            f"(PARTITION BY member_id ORDER BY id) AS after FROM {table} "
            f"WHERE member_id IN (SELECT member_id FROM {table} WHERE kind = %s)) AS r "
            f"WHERE kind = %s AND after < 0 ORDER BY id LIMIT {LIMIT}",
            [EntryKind.SPEND.value, EntryKind.SPEND.value],
        )
        rows = cursor.fetchall()
    return [f"entry {pk}: spending left member {member} at {after}" for pk, member, after in rows]


def check_balances() -> list[str]:
    """The cached total and count equal the ledger's for every member (one GROUP BY, one outer join)."""
    from django.db import connection

    table, cache = LedgerEntry._meta.db_table, Balance._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(b.member_id, s.member_id), b.total, s.total FROM {cache} b "  # noqa: S608
            f"FULL OUTER JOIN (SELECT member_id, SUM(points) AS total, COUNT(*) AS n FROM {table} "
            f"GROUP BY member_id) s ON s.member_id = b.member_id "
            f"WHERE b.member_id IS NULL OR (s.member_id IS NULL AND (b.total <> 0 OR b.entries <> 0)) "
            f"OR b.total <> s.total OR b.entries <> s.n ORDER BY 1 LIMIT {LIMIT}"
        )
        rows = cursor.fetchall()
    problems = []
    for member, cached, summed in rows:
        if cached is None:
            problems.append(f"member {member}: entries without a balance row")
        else:
            problems.append(f"member {member}: cached balance {cached}, ledger says {summed}")
    return problems


CHECKS: list[tuple[str, Callable[[], list[str]]]] = [
    ("entry kinds and signs", check_kinds),
    ("one entry per idempotency key", check_idempotency),
    ("award = rule table value", check_award_values),
    ("rule version in force", check_rule_in_force),
    ("reversals and refunds", check_reversals),
    ("daily and monthly caps", check_caps),
    ("spending within the balance", check_spends),
    ("cached balance = sum", check_balances),
]


def run_all() -> list[tuple[str, list[str]]]:
    return [(name, check()) for name, check in CHECKS]
