"""The case lists' queries at a generated scale on PostgreSQL: no sequential scan over the big tables.

30,000 cases (20 % open) with their clocks, spread over 200 communities, are generated inside PostgreSQL
(``kangle.demo.cases.bulk_cases_sql``), two timeline events per case are added in SQL, and the tables are
analysed; each list or detail request's SELECTs are then explained. ``enable_seqscan`` is left as it is: at
this size the planner picks the indexes on its own costs.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.helpers import report
from kangle.accounts.services import token_issue
from kangle.cases.models import Contractor
from kangle.core.roles import Role
from kangle.demo.cases import bulk_cases_sql
from kangle.orgs.models import OrgKind
from personas import make_unit, make_user
from sql_parts import counts_in

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

BIG_TABLES = ("cases_case", "cases_casemilestone", "cases_caseevent")


@pytest.fixture
def scale(personas, termite):
    tree = personas.tree
    for index in range(200):
        make_unit(tree.other_street, OrgKind.COMMUNITY, f"X-C{index:03d}", f"社区{index}")
    bulk_cases_sql(count=30_000, open_share=0.2, now=dt.datetime.now(dt.UTC), chunk=30_000)
    report(personas, termite)  # one case of community A with its timeline
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cases_caseevent (case_id, kind, actor_id, at, from_status, to_status, step, note, "
            "data, public) SELECT c.id, 'reported', NULL, c.reported_at + (g * interval '1 hour'), '', "
            "c.status, '', '', '{}'::jsonb, true FROM cases_case c CROSS JOIN generate_series(0, 1) g"
        )
        for table in ("orgs_orgunit", *BIG_TABLES):
            cursor.execute(f"ANALYZE {table}")
    return personas


def _plans(run) -> list[tuple[str, str]]:
    with CaptureQueriesContext(connection) as queries:
        response = run()
    assert response.status_code == 200, response.content[:300]
    plans = []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT") or not any(f'"{t}"' in sql for t in BIG_TABLES):
                continue
            cursor.execute("EXPLAIN " + sql)
            plans.append((sql, "\n".join(row[0] for row in cursor.fetchall())))
    assert plans, "the request ran no query on the case tables"
    return plans


def _assert_no_seq_scan(plans):
    for sql, plan in plans:
        for table in BIG_TABLES:
            assert not re.search(rf"Seq Scan on {table}\b", plan), f"{sql}\n\n{plan}"


def test_staff_lists_use_indexes(client, scale):
    personas = scale
    _row, token = token_issue(actor=personas.street_admin, user=personas.secretary_a, name="plans")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    _assert_no_seq_scan(_plans(lambda: client.get("/api/v1/cases/?status=open", **bearer)))
    _assert_no_seq_scan(_plans(lambda: client.get("/api/v1/cases/?status=open&page=3", **bearer)))
    first = client.get("/api/v1/cases/?status=open", **bearer).json()
    if first["next"]:
        after = first["next"]
        _assert_no_seq_scan(_plans(lambda: client.get(f"/api/v1/cases/?status=open&after={after}", **bearer)))
    client.force_login(personas.secretary_a)
    _assert_no_seq_scan(_plans(lambda: client.get("/cases/desk/")))
    number = first["items"][0]["number"]
    _assert_no_seq_scan(_plans(lambda: client.get(f"/api/v1/cases/{number}", **bearer)))
    _assert_no_seq_scan(_plans(lambda: client.get(f"/cases/desk/{number}/")))


def test_contractor_and_reporter_lists_use_indexes(client, scale, termite):
    personas = scale
    contractor = Contractor.objects.create(name="白蚁防治所", org=personas.tree.street)
    contractor.users.add(personas.contractor)
    resident = make_user("resident_2", Role.RESIDENT, personas.tree.community_a)
    for user in (personas.contractor, resident):
        _row, token = token_issue(actor=personas.superuser, user=user, name="plans")
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        _assert_no_seq_scan(_plans(lambda bearer=bearer: client.get("/api/v1/cases/?status=open", **bearer)))


def test_the_duplicate_hint_reads_a_busy_address_from_its_index(scale, termite):
    """A building reported again and again: its 3,000 open cases are not all read to hint at five. Most cases
    are of the hint's category, as on a street where termites are most of the work: a plan made without the
    values, which takes every category for as common as any other, once read the category's and the open
    cases' indexes besides the address's and sorted what they shared (3.8 ms at 100,000 cases)."""
    from django.db.backends.postgresql.psycopg_any import mogrify

    from kangle.cases.services.intake import address_key, open_duplicates

    key = address_key(termite, "湖南路 100 弄 3 号")
    with connection.cursor() as cursor:
        # Nearly every case a termite case, a few of each other category.
        cursor.execute(
            "UPDATE cases_case SET category_id = CASE WHEN id %% 200 = 0 "
            "THEN (SELECT id FROM cases_casecategory ORDER BY id "
            "OFFSET (cases_case.id / 200) %% (SELECT count(*) FROM cases_casecategory) LIMIT 1) "
            "ELSE %s END",
            [termite.pk],
        )
        cursor.execute(
            "UPDATE cases_case SET address_hash = %s, category_id = %s "
            "WHERE id IN (SELECT id FROM cases_case WHERE status <> 'closed' ORDER BY id LIMIT 3000)",
            [key, termite.pk],
        )
        cursor.execute("ANALYZE cases_case")
    hint = open_duplicates(termite, "湖南路 100 弄 3 号", actor=scale.street_admin).values_list("number")[:5]
    sql, params = hint.query.sql_with_params()
    numbered = sql.replace("%s", "{}").format(*(f"${index}" for index in range(1, len(params) + 1)))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plans = ["\n".join(row[0] for row in cursor.fetchall())]
        # As a prepared statement run often: the plan made without the values must use the index too.
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE hint AS {numbered}")
        values = mogrify(", ".join(["%s"] * len(params)), params, connection)
        cursor.execute(f"EXPLAIN EXECUTE hint({values.decode() if isinstance(values, bytes) else values})")
        plans.append("\n".join(row[0] for row in cursor.fetchall()))
        cursor.execute("DEALLOCATE hint")
        cursor.execute("RESET plan_cache_mode")
    for plan in plans:
        assert "cases_case_address_recent_idx" in plan, plan
        assert "Sort" not in plan, plan


def test_open_case_counts_read_the_open_cases_units_only(client, scale):
    """The "1000+" of a staff list counts from the open cases' unit index: the count selects no column of
    another table, so it joins only what its filters need (the units, for the subtree). With the list's
    category join left in, PostgreSQL read every open case's row instead (0.4 against 1.2–1.4 ms at 100k)."""
    personas = scale
    _row, token = token_issue(actor=personas.street_admin, user=personas.street_admin, name="plans")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client.force_login(personas.street_admin)
    for run in (
        lambda: client.get("/api/v1/cases/?status=open", **bearer),
        lambda: client.get("/cases/desk/?page=2"),
    ):
        counts = [(part, plan) for sql, plan in _plans(run) for part in counts_in(sql)]
        assert counts, "the list counted nothing"
        for sql, _plan in counts:
            assert '"cases_casecategory"' not in sql and '"cases_contractor"' not in sql, sql
        # The subtree's count; the API's second part (the actor's own cases outside it) reads its own index.
        assert any("cases_case_open_org_idx" in plan for _sql, plan in counts), counts
        # The subtree's units read first, then each one's open cases from the index (``AmongUnits``): no
        # merge join walking the whole city's open cases in unit order to find the street's.
        assert any("Index Cond: (org_id = ANY" in plan for _sql, plan in counts), counts
        for _sql, plan in counts:
            assert "Merge Join" not in plan, plan


def test_the_to_do_warned_clocks_are_planned_once_per_connection(client, scale):
    """Run on every visit of the to-do home, the statement reading the clocks the sweep has warned reaches
    the plan PostgreSQL keeps for the connection (``pg_prepared_statements`` counts both kinds of plan). It
    once asked for clocks not yet due as well — a time, on which PostgreSQL then planned it anew on every
    visit, which took longer than running it. (The part reading clocks whose warning time has passed
    before the sweep came must compare times, and its plan may rightly depend on them.)"""
    from kangle.core.rawrows import prepares_statements

    if not prepares_statements(connection):
        pytest.skip("statements are not prepared")
    with connection.cursor() as cursor:
        # A few hundred clocks the sweep has warned, as between two sweeps of a busy street.
        cursor.execute(
            "UPDATE cases_casemilestone SET warned_at = started_at, warn_at = NULL WHERE id IN (SELECT id "
            "FROM cases_casemilestone WHERE state = 'running' AND due_at > now() ORDER BY id LIMIT 300)"
        )
        cursor.execute("ANALYZE cases_casemilestone")
        cursor.execute("DEALLOCATE ALL")  # what earlier tests of this connection prepared
    client.force_login(scale.street_admin)
    for _visit in range(20):  # the driver prepares a statement on its fifth run
        assert client.get("/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE %s AND statement LIKE %s",
            ['%FROM "cases_casemilestone" INNER JOIN "orgs_orgunit"%', '%"warned_at" IS NOT NULL%'],
        )
        plans = cursor.fetchall()
    assert len(plans) == 1, plans
    (statement, generic, custom) = plans[0]
    assert generic >= 5 and custom <= 5, (statement, generic, custom)


def test_the_to_do_home_reads_no_big_table_whole(client, scale):
    """The to-do home at 30,000 cases with their timelines: every count and every clock line reads an index,
    not a whole table. (With a small timeline table PostgreSQL rightly scans it for the returned cases'
    line; what matters is that it stops doing so once the table is big.)"""
    client.force_login(scale.street_admin)
    _assert_no_seq_scan(_plans(lambda: client.get("/")))
