"""The ledger's invariants for ``kangle ledger-check``, set-based: at most one pass over the ledger per query.

- ``entries_check``: one scan of every entry, joined to the (small) rule table, finds malformed entries
  (sign and shape per kind), awards whose ``base_points`` is not the table value of their rule version, and
  awards whose version was not in force when the service happened.
- ``caps_check``: one walk of the covering (member, day) index gives the day totals and, as a window over
  each member's days, the month totals.
- ``balances_check``: one aggregate per member compared with the cached balance rows.
- ``reversals_check``, ``spends_check``: only the rows concerned, found through indexes (entries that
  reverse another; members who ever spent).
- ``idempotency_check``: one entry per key is what the unique index on ``idempotency_key`` enforces; the
  check confirms the index is there and valid and scans the keys only when it is not.

Every check returns ``[(invariant name, violations)]``: violations are strings, at most ``LIMIT`` per
invariant; an empty list means the invariant holds.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection, transaction

from kangle.points.models import Balance, EntryKind, LedgerEntry, PointsRule

LIMIT = 20
KINDS = "entry kinds and signs"
IDEMPOTENCY = "one entry per idempotency key"
VALUES = "award = rule table value"
IN_FORCE = "rule version in force"
REVERSALS = "reversals and refunds"
CAPS = "daily and monthly caps"
SPENDS = "spending within the balance"
BALANCES = "cached balance = sum"
# The window of ``caps_check`` sorts each member's days by month: give it memory.
WORK_MEM = "1GB"

LEDGER = LedgerEntry._meta.db_table
RULES = PointsRule._meta.db_table
CACHE = Balance._meta.db_table


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _table_values() -> tuple[str, list]:
    """The points tables of every rule version as SQL rows (rule, difficulty, from minutes, to minutes,
    points): a tiny relation the entries join to. A dummy row keeps the VALUES list valid without rules."""
    rows = []
    for rule in PointsRule.objects.only("pk", "band_limits", "table"):
        bounds = [0, *rule.band_limits, 2**31 - 1]
        for difficulty in range(1, 6):
            for band in range(1, len(bounds)):
                try:
                    points = rule.points_for(difficulty, bounds[band - 1])
                except (TypeError, IndexError, ValueError):
                    points = -1  # a table that cannot give a value matches no entry
                rows.append((rule.pk, difficulty, bounds[band - 1], bounds[band], points))
    rows = rows or [(0, 0, 0, 0, 0)]
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    return values, [value for row in rows for value in row]


def entries_check() -> list[tuple[str, list[str]]]:
    """Kinds and signs, table values and rule windows: one scan of the ledger."""
    award, spend, refund, reversal, adjustment = (
        EntryKind.AWARD.value,
        EntryKind.SPEND.value,
        EntryKind.REFUND.value,
        EntryKind.REVERSAL.value,
        EntryKind.ADJUSTMENT.value,
    )
    values, value_params = _table_values()
    shape = (
        "(l.kind = %s AND (l.rule_id IS NULL OR l.base_points IS NULL OR l.points < 0 "
        "OR l.points > l.base_points OR l.base_points < 1 OR l.base_points > 5 "
        "OR w.version IS NULL OR l.rule_version IS NULL OR l.rule_version <> w.version)) "
        "OR (l.kind = %s AND l.points >= 0) OR (l.kind IN (%s, %s) AND l.reverses_id IS NULL) "
        "OR (l.kind = %s AND l.reason = '') OR l.kind NOT IN (%s, %s, %s, %s, %s)"
    )
    shape_params = [award, spend, refund, reversal, adjustment, *EntryKind.values]
    value = "l.kind = %s AND l.rule_id IS NOT NULL AND (t.points IS NULL OR t.points <> l.base_points)"
    window = (
        "l.kind = %s AND w.id IS NOT NULL AND (l.occurred_at < w.effective_from "
        "OR (w.until IS NOT NULL AND l.occurred_at >= w.until))"
    )
    sql = (
        f"WITH tv (rule_id, difficulty, low, high, points) AS (VALUES {values}), "  # noqa: S608
        f"w AS (SELECT id, version, effective_from, LEAD(effective_from) OVER "
        f"(PARTITION BY org_id ORDER BY effective_from) AS until FROM {RULES}), "
        f"bad AS (SELECT l.id, l.kind, l.points, l.rule_version, l.difficulty, l.duration_minutes, "
        f"l.base_points, t.points AS expected, CASE WHEN {shape} THEN 1 ELSE 0 END AS bad_shape, "
        f"CASE WHEN {value} THEN 1 ELSE 0 END AS bad_value, CASE WHEN {window} THEN 1 ELSE 0 END AS bad_window "
        f"FROM {LEDGER} l LEFT JOIN w ON w.id = l.rule_id "
        f"LEFT JOIN tv t ON t.rule_id = l.rule_id AND t.difficulty = l.difficulty "
        f"AND l.duration_minutes >= t.low AND l.duration_minutes < t.high "
        f"WHERE ({shape}) OR ({value}) OR ({window})) "
        f"SELECT * FROM (SELECT 's', id, kind, points, rule_version, difficulty, duration_minutes, "
        f"base_points, expected FROM bad WHERE bad_shape = 1 ORDER BY id LIMIT {LIMIT}) s "
        f"UNION ALL SELECT * FROM (SELECT 'v', id, kind, points, rule_version, difficulty, duration_minutes, "
        f"base_points, expected FROM bad WHERE bad_value = 1 ORDER BY id LIMIT {LIMIT}) v "
        f"UNION ALL SELECT * FROM (SELECT 'w', id, kind, points, rule_version, difficulty, duration_minutes, "
        f"base_points, expected FROM bad WHERE bad_window = 1 ORDER BY id LIMIT {LIMIT}) f"
    )
    params = [
        *value_params,
        *shape_params,
        award,
        award,
        *shape_params,
        award,
        award,
    ]
    found: dict[str, list[str]] = {"s": [], "v": [], "w": []}
    for tag, pk, kind, points, version, difficulty, minutes, base, expected in _rows(sql, params):
        if tag == "s":
            found[tag].append(f"entry {pk}: malformed {kind} ({points:+d})")
        elif tag == "v":
            found[tag].append(
                f"entry {pk}: rule v{version} gives {expected} for difficulty {difficulty} and {minutes} min, "
                f"the entry says {base}"
            )
        else:
            found[tag].append(f"entry {pk}: rule v{version} was not in force when the service happened")
    return [(KINDS, found["s"]), (VALUES, found["v"]), (IN_FORCE, found["w"])]


def _month(column: str) -> str:
    """The first day of the month of a date column, as a date (cheap date arithmetic on PostgreSQL)."""
    if connection.vendor == "postgresql":
        return f"{column} - CAST(date_part('day', {column}) AS INTEGER) + 1"
    return f"date({column}, 'start of month')"


def caps_check() -> list[tuple[str, list[str]]]:
    """Net awards (awards and their reversals) per member and local day, and per month, within the largest
    cap of any version (a member's day may mix versions).

    One walk of the ledger in (member, day) order: the covering index gives the day totals without a sort or
    a hash table, the month totals are a window over each member's days (sorted per member only)."""
    caps = _rows(f"SELECT MAX(daily_cap), MAX(monthly_cap) FROM {RULES}")[0]  # noqa: S608
    if caps[0] is None:
        return [(CAPS, [])]  # without rules no award is valid anyway (the entries check says so)
    sql = (
        f"SELECT member_id, CAST(occurred_on AS TEXT), net, month_net, CAST(month AS TEXT) FROM "  # noqa: S608
        f"(SELECT member_id, occurred_on, net, month, SUM(net) OVER (PARTITION BY member_id, month) AS month_net "
        f"FROM (SELECT member_id, occurred_on, {_month('occurred_on')} AS month, "
        f"SUM(CASE WHEN kind IN (%s, %s) THEN points ELSE 0 END) AS net "
        f"FROM {LEDGER} GROUP BY member_id, occurred_on) days) w "
        f"WHERE net > %s OR month_net > %s ORDER BY member_id, occurred_on LIMIT {LIMIT * 32}"
    )
    params = [EntryKind.AWARD.value, EntryKind.REVERSAL.value, caps[0], caps[1]]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Sorted grouping over the covering index beats hashing millions of member-days.
                cursor.execute("SET LOCAL enable_hashagg = off")
                cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        rows = _rows(sql, params)
    days, months = [], {}
    for member, day, net, month_net, month in rows:
        if net > caps[0] and len(days) < LIMIT:
            days.append(f"member {member}: {net} points on {day} exceed the daily cap")
        if month_net > caps[1] and len(months) < LIMIT:
            months.setdefault(
                (member, month), f"member {member}: {month_net} points in {month[:7]} exceed the monthly cap"
            )
    return [(CAPS, (days + list(months.values()))[:LIMIT])]


def balances_check() -> list[tuple[str, list[str]]]:
    """The cached total and count equal the ledger's for every member (one GROUP BY, one outer join)."""
    rows = _rows(
        f"SELECT COALESCE(b.member_id, s.member_id), b.total, s.total FROM {CACHE} b "  # noqa: S608
        f"FULL OUTER JOIN (SELECT member_id, SUM(points) AS total, COUNT(*) AS n FROM {LEDGER} "
        f"GROUP BY member_id) s ON s.member_id = b.member_id "
        f"WHERE b.member_id IS NULL OR (s.member_id IS NULL AND (b.total <> 0 OR b.entries <> 0)) "
        f"OR b.total <> s.total OR b.entries <> s.n ORDER BY 1 LIMIT {LIMIT}"
    )
    problems = []
    for member, cached, summed in rows:
        if cached is None:
            problems.append(f"member {member}: entries without a balance row")
        else:
            problems.append(f"member {member}: cached balance {cached}, ledger says {summed}")
    return [(BALANCES, problems)]


def reversals_check() -> list[tuple[str, list[str]]]:
    """A reversal negates one award of the same member; a refund negates one spend of the same member.
    Reads only the entries that reverse another (through the unique index on ``reverses_id``)."""
    rows = _rows(
        f"SELECT l.id, l.kind FROM {LEDGER} l JOIN {LEDGER} r ON r.id = l.reverses_id "  # noqa: S608
        "WHERE l.reverses_id IS NOT NULL AND l.kind IN (%s, %s) AND (l.points <> -r.points "
        "OR l.member_id <> r.member_id OR (l.kind = %s AND r.kind <> %s) OR (l.kind = %s AND r.kind <> %s)) "
        f"ORDER BY l.id LIMIT {LIMIT}",
        [
            EntryKind.REVERSAL.value,
            EntryKind.REFUND.value,
            EntryKind.REVERSAL.value,
            EntryKind.AWARD.value,
            EntryKind.REFUND.value,
            EntryKind.SPEND.value,
        ],
    )
    return [(REVERSALS, [f"entry {pk}: {kind} does not negate what it reverses" for pk, kind in rows])]


def spends_check() -> list[tuple[str, list[str]]]:
    """No spend took the balance below zero: running sums in entry order, only for members who ever spent
    (found through the partial index of spends)."""
    rows = _rows(
        f"SELECT id, member_id, after FROM (SELECT id, member_id, kind, SUM(points) OVER "  # noqa: S608
        f"(PARTITION BY member_id ORDER BY id) AS after FROM {LEDGER} "
        f"WHERE member_id IN (SELECT DISTINCT member_id FROM {LEDGER} WHERE kind = %s)) r "
        f"WHERE kind = %s AND after < 0 ORDER BY id LIMIT {LIMIT}",
        [EntryKind.SPEND.value, EntryKind.SPEND.value],
    )
    return [(SPENDS, [f"entry {pk}: spending left member {member} at {after}" for pk, member, after in rows])]


def _unique_key_index() -> bool:
    """A valid unique index on ``idempotency_key`` alone exists (the database then refuses duplicates)."""
    if connection.vendor == "postgresql":
        return bool(
            _rows(
                "SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = i.indkey[0] WHERE i.indrelid = %s::regclass AND i.indisunique "
                "AND i.indisvalid AND i.indnatts = 1 AND i.indpred IS NULL AND a.attname = %s",
                [LEDGER, "idempotency_key"],
            )
        )
    if connection.vendor == "sqlite":
        for _seq, name, unique, _origin, partial in _rows(f"PRAGMA index_list('{LEDGER}')"):
            if unique and not partial:
                columns = [row[2] for row in _rows(f"PRAGMA index_info('{name}')")]
                if columns == ["idempotency_key"]:
                    return True
    return False


def idempotency_check() -> list[tuple[str, list[str]]]:
    """One entry per idempotency key: proven by the unique index; without it, one scan of the keys."""
    if _unique_key_index():
        return [(IDEMPOTENCY, [])]
    rows = _rows(
        f"SELECT idempotency_key, COUNT(*) FROM {LEDGER} GROUP BY idempotency_key "  # noqa: S608
        f"HAVING COUNT(*) > 1 ORDER BY idempotency_key LIMIT {LIMIT}"
    )
    problems = ["the unique index on idempotency_key is missing or invalid"]
    problems += [f"idempotency key {key} used {n} times" for key, n in rows]
    return [(IDEMPOTENCY, problems[:LIMIT])]


# (what the pass reads, the pass): each pass reports one or more invariants.
PASSES: list[tuple[str, Callable[[], list[tuple[str, list[str]]]]]] = [
    ("every entry", entries_check),
    ("unique index or keys", idempotency_check),
    ("entries that reverse another", reversals_check),
    ("day and month totals per member", caps_check),
    ("totals per member", balances_check),
    ("members who spent", spends_check),
]
INVARIANTS = [KINDS, IDEMPOTENCY, VALUES, IN_FORCE, REVERSALS, CAPS, SPENDS, BALANCES]


def run_all() -> list[tuple[str, list[str]]]:
    """Every invariant with its violations, in the order of ``INVARIANTS``."""
    found = {}
    for _label, run in PASSES:
        found.update(run())
    return [(name, found[name]) for name in INVARIANTS]
