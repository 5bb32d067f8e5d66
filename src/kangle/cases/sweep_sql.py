"""The SLA sweep's statements: a page of due clocks is changed and recorded set-based.

Every statement takes or returns a whole page: the state change is one ``UPDATE … RETURNING``, and the
timeline events, escalation rows and audit rows are ``INSERT … SELECT`` statements that read the changed
rows inside the database (nothing per row passes through Python, nothing is decrypted).

On PostgreSQL a page is one statement: the UPDATE is a data-modifying ``WITH`` whose ``RETURNING`` rows the
INSERTs and the page's read take directly, so each changed clock is read once, where separate statements
would each find the page's clocks again by their ids (the largest part of their cost, on rows the UPDATE
has just given new versions). SQLite has no data-modifying ``WITH``: there the same INSERT and SELECT
texts read the page's clocks by id, one statement each (≥ 3.35 for ``RETURNING``). The other fragments that
differ are the functions below (a page of ids as one parameter, a JSON object, a timestamp as ISO 8601
text, row locks).
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


def skips_locked_rows() -> bool:
    """Whether a claim skips the rows another transaction holds (PostgreSQL); SQLite has no row locks."""
    return connection.features.has_select_for_update_skip_locked


def _lock(of: str = "") -> str:
    if not skips_locked_rows():
        return ""
    return f" FOR UPDATE OF {of} SKIP LOCKED" if of else " FOR UPDATE SKIP LOCKED"


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


def _rows(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _write(sql: str, params: Sequence) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# --- state changes: one statement per page ----------------------------------------------------------------
# What a changed clock's RETURNING gives the statements that record it (PostgreSQL).
CHANGED = "id, case_id, milestone_id, deadline, escalation_level"


class _Page:
    """Where a page's records read its clocks from (as ``cm``): the UPDATE's RETURNING rows on PostgreSQL,
    or the clocks table filtered to the page's ids."""

    def __init__(self, ids: Sequence[int] | None = None):
        self.ids = ids

    @property
    def source(self) -> str:
        return f"{CLOCKS} cm" if self.ids is not None else "changed cm"

    @property
    def where(self) -> str:
        return f"WHERE {_in_page('cm.id')} " if self.ids is not None else ""

    @property
    def params(self) -> list:
        return [_page(self.ids)] if self.ids is not None else []


CHANGED_PAGE = _Page()


def warn(moment: dt.datetime, batch: int, *, kind: str, worker: str) -> list[dict]:
    """Warn the page of clocks whose warning time has passed and record their timeline events; the page's
    rows (as ``page_rows``) for the notices."""
    at = timestamp(moment)
    update = (
        f"UPDATE {CLOCKS} SET warn_at = NULL, warned_at = %s "  # noqa: S608 - fixed names
        f"WHERE id IN ({_claim('warn_at')}) AND warn_at <= %s"
    )
    params = [at, at, batch, at]
    if not _postgres():
        ids = _ids(f"{update} RETURNING id", params)
        if ids:
            record_clock_events(ids, kind=kind, moment=moment, worker=worker)
        return page_rows(ids)
    events, event_params = _clock_events(CHANGED_PAGE, kind=kind, moment=moment, worker=worker)
    read, read_params = _page_read(CHANGED_PAGE)
    return _page_dicts(
        _rows(
            f"WITH changed AS ({update} RETURNING {CHANGED}), events AS ({events}) {read}",
            [*params, *event_params, *read_params],
        )
    )


def breach(moment: dt.datetime, batch: int, *, breached: str, running: str, kind: str, worker: str) -> int:
    """Breach the page of running clocks whose due time has passed and record their events and audit rows;
    how many were breached."""
    at = timestamp(moment)
    update = (
        f"UPDATE {CLOCKS} SET due_at = NULL, warn_at = NULL, breached_at = %s, state = %s "  # noqa: S608
        f"WHERE id IN ({_claim('due_at')}) AND due_at <= %s AND state = %s"
    )
    params = [at, breached, at, batch, at, running]
    if not _postgres():
        ids = _ids(f"{update} RETURNING id", params)
        if ids:
            record_clock_events(ids, kind=kind, moment=moment, worker=worker)
            record_breach_audit(ids, moment=moment)
        return len(ids)
    events, event_params = _clock_events(CHANGED_PAGE, kind=kind, moment=moment, worker=worker)
    audit, audit_params = _breach_audit(CHANGED_PAGE, moment=moment)
    ((count,),) = _rows(
        f"WITH changed AS ({update} RETURNING {CHANGED}), events AS ({events}), "  # noqa: S608
        f"audit AS ({audit}) SELECT COUNT(*) FROM changed",
        [*params, *event_params, *audit_params],
    )
    return count


def claim_escalations(moment: dt.datetime, batch: int) -> list[dict]:
    """Lock the page of clocks whose next escalation time has passed and read them (as ``page_rows``), in
    one statement; the level moves in ``escalate`` (the next time is computed on the clock's policy
    calendar, in Python)."""
    return sorted(
        _page_dicts(
            _rows(
                f"{_page_select()} FROM {CLOCKS} cm {_page_joins()}"  # noqa: S608 - fixed names
                "WHERE cm.next_escalation_at <= %s ORDER BY cm.next_escalation_at LIMIT %s"
                f"{_lock('cm')}",
                [timestamp(moment), batch],
            )
        ),
        key=lambda row: row["pk"],
    )


def escalate(
    plan: Sequence[tuple[int, int, dt.datetime | None, str]], moment: dt.datetime, *, kind: str, worker: str
) -> list[int]:
    """Move each ``(id, level read, next escalation time, role told)`` one level up with one compare-and-set
    UPDATE — only rows still at the level read, still due and not met move — and write the moved rows'
    escalation rows, timeline events and audit rows; the ids moved. Escalation rows are unique per clock and
    level: a second insert of the same milestone and level fails the page."""
    if not plan:
        return []
    page, params = rows_table(
        (("id", "bigint"), ("level", "integer"), ("next_at", "timestamp with time zone"), ("role", "text")),
        [(pk, level, timestamp(following), role) for pk, level, following, role in plan],
    )
    postgres = _postgres()
    target = "cm" if postgres else CLOCKS
    table = f"{CLOCKS} AS cm" if postgres else CLOCKS
    update = (
        f"UPDATE {table} SET escalation_level = page.level + 1, next_escalation_at = page.next_at "  # noqa: S608
        f"FROM page WHERE {target}.id = page.id AND {target}.escalation_level = page.level "
        f"AND {target}.next_escalation_at <= %s AND {target}.met_at IS NULL"
    )
    params = [*params, timestamp(moment)]
    if not postgres:
        moved = _ids(f"WITH page AS ({page}) {update} RETURNING {target}.id", params)
        roles = {pk: role for pk, _level, _next, role in plan}
        levels = {pk: level + 1 for pk, level, _next, _role in plan}
        if moved:
            record_escalations([(pk, levels[pk], roles[pk]) for pk in moved], moment=moment, worker=worker)
            record_escalation_events(moved, kind=kind, moment=moment, worker=worker)
            record_escalation_audit(moved, moment=moment)
        return moved
    records, record_params = _escalation_records(moment=moment, kind=kind, worker=worker)
    return _ids(
        f"WITH page AS ({page}), changed AS ({update} RETURNING cm.id, cm.case_id, cm.milestone_id, "  # noqa: S608
        f"cm.escalation_level AS level, page.role), {records} SELECT id FROM changed",
        [*params, *record_params],
    )


def _page_select() -> str:
    return (
        "SELECT cm.id, cm.case_id, cm.deadline, cm.escalation_level, c.number, c.title, o.path, "
        "c.contractor_id, cat.name, m.name, m.policy_id"
    )


def _page_joins() -> str:
    return (
        f"JOIN {CASES} c ON c.id = cm.case_id JOIN {UNITS} o ON o.id = c.org_id "
        f"JOIN {CATEGORIES} cat ON cat.id = c.category_id JOIN {MILESTONES} m ON m.id = cm.milestone_id "
    )


def _page_read(page: _Page) -> tuple[str, list]:
    return f"{_page_select()} FROM {page.source} {_page_joins()}{page.where}ORDER BY cm.id", page.params


def page_rows(ids: Sequence[int]) -> list[dict]:
    """What a page's notices (and an escalation's next time) need, in id order: no personal data, so
    nothing is decrypted."""
    if not ids:
        return []
    return _page_dicts(_rows(*_page_read(_Page(ids))))


def _page_dicts(rows: Sequence[Sequence]) -> list[dict]:
    return [dict(zip(PAGE_COLUMNS, _aware_deadline(row), strict=True)) for row in rows]


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


def _events_insert(page: _Page, data: str, join: str = "") -> str:
    """One timeline event per clock of the page; parameters: the kind, the time, ``data``'s own, the page's."""
    return (
        f"INSERT INTO {EVENTS} ({EVENT_COLUMNS}) "  # noqa: S608 - fixed names
        f"SELECT cm.case_id, CAST(%s AS TEXT), NULL, {_moment()}, '', '', '', m.name, {data}, FALSE "
        f"FROM {page.source} JOIN {MILESTONES} m ON m.id = cm.milestone_id {join}{page.where}ORDER BY cm.id"
    )


def _audit_insert(page: _Page, details: str, join: str = "") -> str:
    """One audit row per clock of the page, on its case; parameters: the verb, the time, the page's."""
    return (
        f"INSERT INTO {AUDIT} ({AUDIT_COLUMNS}) "  # noqa: S608 - fixed names
        "SELECT NULL, CAST(%s AS TEXT), 'cases.case', CAST(cm.case_id AS TEXT), "
        f"substr(c.number || ' ' || c.title, 1, 200), o.path, {_moment()}, {details} "
        f"FROM {page.source} JOIN {MILESTONES} m ON m.id = cm.milestone_id "
        f"JOIN {CASES} c ON c.id = cm.case_id JOIN {UNITS} o ON o.id = c.org_id {join}{page.where}ORDER BY cm.id"
    )


def _clock_events(page: _Page, *, kind: str, moment: dt.datetime, worker: str) -> tuple[str, list]:
    """A warning's or a breach's events: ``{"milestone", "deadline", "worker"}``."""
    data = _json(milestone="m.code", deadline=_iso("cm.deadline"), worker="CAST(%s AS TEXT)")
    return _events_insert(page, data), [kind, timestamp(moment), worker, *page.params]


def record_clock_events(ids: Sequence[int], *, kind: str, moment: dt.datetime, worker: str) -> int:
    """One timeline event per clock of the page, read by id (SQLite)."""
    return _write(*_clock_events(_Page(ids), kind=kind, moment=moment, worker=worker))


def _breach_audit(page: _Page, *, moment: dt.datetime) -> tuple[str, list]:
    """A breach's audit rows: ``{"milestone", "deadline"}``."""
    details = _json(milestone="m.code", deadline=_iso("cm.deadline"))
    return _audit_insert(page, details), ["case.sla_breach", timestamp(moment), *page.params]


def record_breach_audit(ids: Sequence[int], *, moment: dt.datetime) -> int:
    """One audit row per breached clock, read by id (SQLite)."""
    return _write(*_breach_audit(_Page(ids), moment=moment))


def _escalation_records(*, moment: dt.datetime, kind: str, worker: str) -> tuple[str, list]:
    """The escalation rows, events and audit rows of the clocks ``changed`` moved (PostgreSQL), as ``WITH``
    items: ``changed`` gives each clock's new ``level`` and the ``role`` told, so nothing reads the
    escalation rows back (a statement cannot see its own inserts)."""
    at = timestamp(moment)
    data = _json(milestone="m.code", level="cm.level", role="cm.role", worker="CAST(%s AS TEXT)")
    details = _json(milestone="m.code", level="cm.level", role="cm.role")
    return (
        f"escalations AS (INSERT INTO {ESCALATIONS} (case_milestone_id, level, role, at, worker_id) "  # noqa: S608
        f"SELECT cm.id, cm.level, cm.role, {_moment()}, CAST(%s AS TEXT) FROM changed cm), "
        f"events AS ({_events_insert(CHANGED_PAGE, data)}), audit AS ({_audit_insert(CHANGED_PAGE, details)})",
        [at, worker, kind, at, worker, "case.escalate", at],
    )


def record_escalations(rows: Sequence[tuple[int, int, str]], *, moment: dt.datetime, worker: str) -> int:
    """The escalation rows ``(clock id, level reached, role)`` of a page, one INSERT (SQLite)."""
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
    """One timeline event per escalated clock, read from its new escalation row (SQLite):
    ``{"milestone", "level", "role", "worker"}``."""
    page = _Page(ids)
    data = _json(milestone="m.code", level="e.level", role="e.role", worker="CAST(%s AS TEXT)")
    return _write(
        _events_insert(page, data, _escalation_join()), [kind, timestamp(moment), worker, *page.params]
    )


def record_escalation_audit(ids: Sequence[int], *, moment: dt.datetime) -> int:
    """One audit row per escalated clock, on the case (SQLite): ``{"milestone", "level", "role"}``."""
    page = _Page(ids)
    details = _json(milestone="m.code", level="e.level", role="e.role")
    return _write(
        _audit_insert(page, details, _escalation_join()), ["case.escalate", timestamp(moment), *page.params]
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
