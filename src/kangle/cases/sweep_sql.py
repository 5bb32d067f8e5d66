"""The SLA sweep's statements: a page of due clocks is changed and recorded set-based.

Every statement takes or returns a whole page: the state change is one ``UPDATE … RETURNING id``, and the
timeline events, escalation rows and audit rows are ``INSERT … SELECT`` statements that read the changed
rows inside the database (nothing per row passes through Python, nothing is decrypted). The same SQL runs on
PostgreSQL and SQLite (≥ 3.35 for ``RETURNING``); the few fragments that differ are the functions below
(a page of ids as one parameter, a JSON object, a timestamp as ISO 8601 text, row locks).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence

from django.db import connection

from kangle.accounts.models import RoleAssignment
from kangle.cases.models import Case, CaseEvent, CaseMilestone, Contractor, Escalation, Milestone
from kangle.core.models import AuditEvent
from kangle.core.rawrows import rows_table
from kangle.orgs.models import OrgUnit

CLOCKS = CaseMilestone._meta.db_table
MILESTONES = Milestone._meta.db_table
CASES = Case._meta.db_table
UNITS = OrgUnit._meta.db_table
EVENTS = CaseEvent._meta.db_table
ESCALATIONS = Escalation._meta.db_table
AUDIT = AuditEvent._meta.db_table
ROLES = RoleAssignment._meta.db_table
USERS = RoleAssignment._meta.get_field("user").related_model._meta.db_table
CATEGORIES = Case._meta.get_field("category").related_model._meta.db_table
CONTRACTOR_STAFF = Contractor.users.through._meta.db_table

# Marks contractor staff among the recipient rows (a role name never looks like this).
CONTRACTOR = "#contractor"


# --- the fragments that differ between PostgreSQL and SQLite ----------------------------------------------
def _postgres() -> bool:
    return connection.vendor == "postgresql"


def timestamp(value: dt.datetime | None):
    """A datetime as the database driver takes it."""
    return connection.ops.adapt_datetimefield_value(value)


def _moment() -> str:
    # A typed parameter where PostgreSQL cannot infer the type (a SELECT list, VALUES). SQLite compares the
    # stored text, so it gets Django's own format unchanged.
    return "CAST(%s AS timestamp with time zone)" if _postgres() else "%s"


def _in_page(column: str) -> str:
    """``column`` is one of a page of ids, passed as one parameter (see ``_page``)."""
    if _postgres():
        return f"{column} = ANY(CAST(%s AS bigint[]))"
    return f"{column} IN (SELECT value FROM json_each(%s))"  # noqa: S608 - fixed names


def _page(ids: Iterable[int]):
    return list(ids) if _postgres() else json.dumps(list(ids))


def _json(**values: str) -> str:
    """A JSON object built by the database from SQL expressions."""
    function = "jsonb_build_object" if _postgres() else "json_object"
    pairs = ", ".join(f"'{key}', {expression}" for key, expression in values.items())
    return f"{function}({pairs})"


def _iso(column: str) -> str:
    """A stored time as ``datetime.isoformat()`` writes an aware UTC datetime (microseconds when set)."""
    if _postgres():
        utc = f"({column} AT TIME ZONE 'UTC')"
        return (
            f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
            f"|| CASE WHEN to_char({utc}, 'US') = '000000' THEN '' ELSE to_char({utc}, '.US') END "
            "|| '+00:00'"
        )
    # SQLite keeps Django's text form of the UTC time, 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
    return f"replace({column}, ' ', 'T') || '+00:00'"


def _lock() -> str:
    return " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""


def _claim(column: str) -> str:
    """The page of due rows, oldest first, locked for this transaction (skipping rows another worker holds).
    SQLite has no row locks: its writers are serialised by the database lock, which gives the same result.

    No ``AND <time> IS NOT NULL`` beside the comparison: the partial index is used without it (the
    comparison implies it), and PostgreSQL would count the null fraction twice, estimate a few hundred due
    rows where there are thousands, and sort every due row for each page instead of reading the index in
    order up to the page's limit (0.5 s instead of 20 ms a page at 1,000,000 cases)."""
    return (
        f"SELECT id FROM {CLOCKS} WHERE {column} <= %s "  # noqa: S608 - fixed names
        f"ORDER BY {column} LIMIT %s{_lock()}"
    )


def _ids(sql: str, params: Sequence) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _write(sql: str, params: Sequence) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# --- state changes: one statement per page ----------------------------------------------------------------
def warn(moment: dt.datetime, batch: int) -> list[int]:
    """Warn the page of clocks whose warning time has passed; the ids warned by this statement."""
    at = timestamp(moment)
    return _ids(
        f"UPDATE {CLOCKS} SET warn_at = NULL, warned_at = %s "  # noqa: S608 - fixed names
        f"WHERE id IN ({_claim('warn_at')}) AND warn_at <= %s RETURNING id",
        [at, at, batch, at],
    )


def breach(moment: dt.datetime, batch: int, *, breached: str, running: str) -> list[int]:
    """Breach the page of running clocks whose due time has passed; the ids breached by this statement."""
    at = timestamp(moment)
    return _ids(
        f"UPDATE {CLOCKS} SET due_at = NULL, warn_at = NULL, breached_at = %s, state = %s "  # noqa: S608
        f"WHERE id IN ({_claim('due_at')}) AND due_at <= %s AND state = %s RETURNING id",
        [at, breached, at, batch, at, running],
    )


def claim_escalations(moment: dt.datetime, batch: int) -> list[int]:
    """Lock the page of clocks whose next escalation time has passed (the level moves in ``raise_levels``:
    the next time is computed on the clock's policy calendar, in Python)."""
    return _ids(_claim("next_escalation_at"), [timestamp(moment), batch])


def raise_levels(plan: Sequence[tuple[int, int, dt.datetime | None]], moment: dt.datetime) -> list[int]:
    """Move each ``(id, level read, next escalation time)`` one level up with one compare-and-set UPDATE:
    only rows still at the level read, still due and not met move; the ids moved."""
    if not plan:
        return []
    page, params = rows_table(
        (("id", "bigint"), ("level", "integer"), ("next_at", "timestamp with time zone")),
        [(pk, level, timestamp(following)) for pk, level, following in plan],
    )
    postgres = _postgres()
    target = "cm" if postgres else CLOCKS
    table = f"{CLOCKS} AS cm" if postgres else CLOCKS
    return _ids(
        f"WITH page AS ({page}) "  # noqa: S608 - fixed names
        f"UPDATE {table} SET escalation_level = page.level + 1, next_escalation_at = page.next_at "
        f"FROM page WHERE {target}.id = page.id AND {target}.escalation_level = page.level "
        f"AND {target}.next_escalation_at <= %s AND {target}.met_at IS NULL RETURNING {target}.id",
        [*params, timestamp(moment)],
    )


def page_rows(ids: Sequence[int]) -> list[dict]:
    """What a page's notices (and an escalation's next time) need, in id order: no personal data, so
    nothing is decrypted."""
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT cm.id, cm.case_id, cm.deadline, cm.escalation_level, c.number, c.title, o.path, "  # noqa: S608
            f"c.contractor_id, cat.name, m.name, m.policy_id FROM {CLOCKS} cm "
            f"JOIN {CASES} c ON c.id = cm.case_id JOIN {UNITS} o ON o.id = c.org_id "
            f"JOIN {CATEGORIES} cat ON cat.id = c.category_id JOIN {MILESTONES} m ON m.id = cm.milestone_id "
            f"WHERE {_in_page('cm.id')} ORDER BY cm.id",
            [_page(ids)],
        )
        return [dict(zip(PAGE_COLUMNS, _aware_deadline(row), strict=True)) for row in cursor.fetchall()]


PAGE_COLUMNS = (
    "pk",
    "case_id",
    "deadline",
    "escalation_level",
    "case__number",
    "case__title",
    "case__org__path",
    "case__contractor_id",
    "case__category__name",
    "milestone__name",
    "milestone__policy_id",
)


def _aware_deadline(row: Sequence) -> list:
    """SQLite hands a stored time back naive (it is UTC); PostgreSQL aware."""
    values = list(row)
    if values[2].tzinfo is None:
        values[2] = values[2].replace(tzinfo=dt.UTC)
    return values


# --- the records of a page: bulk inserts that read the changed rows in the database -----------------------
EVENT_COLUMNS = "case_id, kind, actor_id, at, from_status, to_status, step, note, data, public"
AUDIT_COLUMNS = "actor_id, verb, object_type, object_id, object_repr, org_path, at, details"


def record_clock_events(ids: Sequence[int], *, kind: str, moment: dt.datetime, worker: str) -> int:
    """One timeline event per clock of the page: ``{"milestone", "deadline", "worker"}``."""
    data = _json(milestone="m.code", deadline=_iso("cm.deadline"), worker="CAST(%s AS TEXT)")
    return _write(
        f"INSERT INTO {EVENTS} ({EVENT_COLUMNS}) "  # noqa: S608 - fixed names
        f"SELECT cm.case_id, CAST(%s AS TEXT), NULL, {_moment()}, '', '', '', m.name, {data}, FALSE "
        f"FROM {CLOCKS} cm JOIN {MILESTONES} m ON m.id = cm.milestone_id "
        f"WHERE {_in_page('cm.id')} ORDER BY cm.id",
        [kind, timestamp(moment), worker, _page(ids)],
    )


def _audit_source() -> str:
    return (
        f"FROM {CLOCKS} cm JOIN {MILESTONES} m ON m.id = cm.milestone_id "
        f"JOIN {CASES} c ON c.id = cm.case_id JOIN {UNITS} o ON o.id = c.org_id "
    )


def _audit_select() -> str:
    return (
        "SELECT NULL, CAST(%s AS TEXT), 'cases.case', CAST(cm.case_id AS TEXT), "
        f"substr(c.number || ' ' || c.title, 1, 200), o.path, {_moment()}, "
    )


def record_breach_audit(ids: Sequence[int], *, moment: dt.datetime) -> int:
    """One audit row per breached clock, on the case: ``{"milestone", "deadline"}``."""
    details = _json(milestone="m.code", deadline=_iso("cm.deadline"))
    return _write(
        f"INSERT INTO {AUDIT} ({AUDIT_COLUMNS}) {_audit_select()}{details} "  # noqa: S608 - fixed names
        f"{_audit_source()}WHERE {_in_page('cm.id')} ORDER BY cm.id",
        ["case.sla_breach", timestamp(moment), _page(ids)],
    )


def record_escalations(rows: Sequence[tuple[int, int, str]], *, moment: dt.datetime, worker: str) -> int:
    """The escalation rows ``(clock id, level reached, role)`` of a page, one INSERT. Unique per clock and
    level: a second insert of the same milestone and level fails the page."""
    if not rows:
        return 0
    page, params = rows_table((("id", "bigint"), ("level", "integer"), ("role", "text")), rows)
    return _write(
        f"INSERT INTO {ESCALATIONS} (case_milestone_id, level, role, at, worker_id) "  # noqa: S608
        f"SELECT page.id, page.level, page.role, {_moment()}, CAST(%s AS TEXT) FROM ({page}) AS page",
        [timestamp(moment), worker, *params],
    )


def _escalation_join() -> str:
    return f"JOIN {ESCALATIONS} e ON e.case_milestone_id = cm.id AND e.level = cm.escalation_level "


def record_escalation_events(ids: Sequence[int], *, kind: str, moment: dt.datetime, worker: str) -> int:
    """One timeline event per escalated clock, read from its new escalation row:
    ``{"milestone", "level", "role", "worker"}``."""
    data = _json(milestone="m.code", level="e.level", role="e.role", worker="CAST(%s AS TEXT)")
    return _write(
        f"INSERT INTO {EVENTS} ({EVENT_COLUMNS}) "  # noqa: S608 - fixed names
        f"SELECT cm.case_id, CAST(%s AS TEXT), NULL, {_moment()}, '', '', '', m.name, {data}, FALSE "
        f"FROM {CLOCKS} cm JOIN {MILESTONES} m ON m.id = cm.milestone_id {_escalation_join()}"
        f"WHERE {_in_page('cm.id')} ORDER BY cm.id",
        [kind, timestamp(moment), worker, _page(ids)],
    )


def record_escalation_audit(ids: Sequence[int], *, moment: dt.datetime) -> int:
    """One audit row per escalated clock, on the case: ``{"milestone", "level", "role"}``."""
    details = _json(milestone="m.code", level="e.level", role="e.role")
    return _write(
        f"INSERT INTO {AUDIT} ({AUDIT_COLUMNS}) {_audit_select()}{details} "  # noqa: S608 - fixed names
        f"{_audit_source()}{_escalation_join()}WHERE {_in_page('cm.id')} ORDER BY cm.id",
        ["case.escalate", timestamp(moment), _page(ids)],
    )


# --- who is told: one query per page ----------------------------------------------------------------------
def recipients(
    codes: Iterable[str], roles: Iterable[str], contractors: Iterable[int]
) -> list[tuple[str, str, int]]:
    """``(unit code, role, user id)`` for every active holder of ``roles`` at the units ``codes``, and
    ``(contractor id, CONTRACTOR, user id)`` for the active staff of ``contractors``: one query (user ids
    only; nothing personal is read)."""
    codes, roles, contractors = sorted(set(codes)), sorted(set(roles)), sorted(set(contractors))
    parts, params = [], []
    if codes and roles:
        parts.append(
            f"SELECT o.code, ra.role, ra.user_id FROM {ROLES} ra "  # noqa: S608 - fixed names
            f"JOIN {UNITS} o ON o.id = ra.org_id JOIN {USERS} u ON u.id = ra.user_id "
            f"WHERE ra.is_active = TRUE AND u.is_active = TRUE "
            f"AND ra.role IN ({', '.join(['%s'] * len(roles))}) "
            f"AND o.code IN ({', '.join(['%s'] * len(codes))})"
        )
        params += [*roles, *codes]
    if contractors:
        parts.append(
            f"SELECT CAST(cs.contractor_id AS TEXT), CAST(%s AS TEXT), cs.user_id "  # noqa: S608
            f"FROM {CONTRACTOR_STAFF} cs JOIN {USERS} u ON u.id = cs.user_id "
            f"WHERE u.is_active = TRUE AND cs.contractor_id IN ({', '.join(['%s'] * len(contractors))})"
        )
        params += [CONTRACTOR, *contractors]
    if not parts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return [(str(key), role, user_id) for key, role, user_id in cursor.fetchall()]
