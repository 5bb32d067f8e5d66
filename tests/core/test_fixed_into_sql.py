"""``rawrows.fixed_into_sql``: the values a compiled read never changes are written into its SQL, quoted by the
driver, so PostgreSQL plans a prepared statement once; the values bound per request stay parameters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from kangle.core import todo
from kangle.core.models import AuditEvent
from kangle.core.rawrows import fixed_into_sql, prepares_statements

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table
# Values a careless writer would break on: a quote, percent signs, a statement of its own, a NUL-free
# backslash, text beyond ASCII.
AWKWARD = ["it's 50% done", "'); DELETE FROM core_auditevent; --", "back\\slash %s %% 街道"]


def _run(sql: str, params: list) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _needs_prepared_postgres():
    if not prepares_statements(connection):
        pytest.skip("values are written in only where PostgreSQL prepares statements")


def test_elsewhere_the_sql_and_parameters_come_back_as_they_are(settings):
    if prepares_statements(connection):
        pytest.skip("this database prepares statements")
    sql = "SELECT %s, %s"
    assert fixed_into_sql(connection, sql, ["a", 1], [1]) == (sql, ["a", 1], [1])


@pytest.mark.parametrize("text", AWKWARD)
def test_a_written_value_reads_as_the_value_it_was(text):
    _needs_prepared_postgres()
    moment = dt.datetime(2026, 11, 30, 8, 1, 2, 345678, tzinfo=dt.UTC)
    sql = "SELECT %s, %s, %s, %s, %s, %s, '%%' || %s"
    params = [text, 7, None, True, moment, b"\x00\x01'", text]
    written, left, moved = fixed_into_sql(connection, sql, params)
    assert left == [] and moved == []
    assert "%s" not in written.replace("%%", "")
    assert _run(written, left) == _run(sql, params)
    assert _run(written, left)[0][:5] == (text, 7, None, True, moment)


def test_kept_values_stay_parameters_in_their_new_places():
    _needs_prepared_postgres()
    sql = "SELECT %s AS a, %s AS b, %s AS c, %s AS d"
    params = ["fixed one", 2, "fixed three", 4]
    written, left, moved = fixed_into_sql(connection, sql, params, [3, 1])
    assert left == [2, 4] and moved == [1, 0]
    assert written.count("%s") == 2
    again = list(left)
    again[moved[0]], again[moved[1]] = 40, 20  # a later request binds its own values where they went
    assert _run(written, again) == [("fixed one", 20, "fixed three", 40)]


def test_a_placeholder_count_that_does_not_match_is_refused():
    _needs_prepared_postgres()
    with pytest.raises(ValueError, match="placeholders"):
        fixed_into_sql(connection, "SELECT %s", ["a", "b"])


def test_an_awkward_value_in_a_filter_matches_only_itself(personas):
    """Written in, a value still compares as data: it neither ends the literal nor matches more rows."""
    _needs_prepared_postgres()
    from kangle.core.audit import record

    for verb in ["probe.plain", *AWKWARD]:
        record(actor=personas.street_admin, verb=verb, obj=personas.street_admin, details={})
    for verb in AWKWARD:
        sql = f"SELECT verb FROM {TABLE} WHERE verb = %s AND at <= %s"  # noqa: S608 - constant name
        written, left, _moved = fixed_into_sql(connection, sql, [verb, timezone.now()], [1])
        assert _run(written, left) == [(verb,)]
    assert AuditEvent.objects.filter(verb="probe.plain").exists()


def test_the_to_do_home_statement_is_planned_once_per_connection(client, personas):
    """The person's compiled tallies, run on every visit, reach a generic plan instead of being planned
    again each time (``pg_prepared_statements`` counts both kinds of plan)."""
    _needs_prepared_postgres()
    client.force_login(personas.street_admin)
    for _visit in range(12):
        assert client.get("/").status_code == 200
    statements = [s for key, s in todo._PERSON_STATEMENTS.items() if s.sql]
    assert statements and all(statement.params == [] for statement in statements)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%CROSS JOIN%"],
        )
        plans = cursor.fetchall()
    assert plans, "the tallies' statement was not prepared"
    generic, custom = plans[0]
    assert generic >= 5 and custom <= 1
