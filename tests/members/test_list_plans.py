"""The member list's queries at a generated scale on PostgreSQL: no sequential scan over the member table.

40,000 member files are cloned in SQL from a few registered ones and spread over 2,000 communities of another
street (a city has about eight files per community); a community secretary's and a street admin's list requests are then explained. ``enable_seqscan``
is left as it is: the planner picks the indexes on its own costs.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kangle.accounts.services import token_issue
from kangle.members import services
from kangle.members.constants import Channel
from kangle.members.models import Member
from kangle.orgs.models import OrgKind, OrgUnit
from personas import make_unit
from sql_parts import counts_in, rows_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _copied(model, alias: str, written: tuple[str, ...]) -> tuple[str, str]:
    """The columns an INSERT … SELECT copies from a row of ``model`` as it is (all but ``written``): their
    list for the INSERT, and for the SELECT from ``alias``."""
    columns = [field.column for field in model._meta.concrete_fields if field.column not in written]
    return ", ".join(f'"{column}"' for column in columns), ", ".join(
        f'{alias}."{column}"' for column in columns
    )


def _analyze(cursor) -> None:
    """Statistics from every row, not a sample of 30,000: the plans, and so these tests, are the same on
    every run."""
    cursor.execute("SET default_statistics_target = 1000")
    cursor.execute("ANALYZE members_member")
    cursor.execute("ANALYZE orgs_orgunit")
    cursor.execute("RESET default_statistics_target")


@pytest.fixture
def scale(personas):
    tree = personas.tree
    for index in range(5):
        services.member_register(
            actor=personas.street_admin,
            channel=Channel.DESK,
            data={
                "name": f"成员{index}",
                "phone": f"1380000{index:04d}",
                "political_status": "full",
                "community": tree.community_a,
            },
        )
    model = make_unit(tree.other_street, OrgKind.COMMUNITY, "X-C0000", "社区0")
    unit_names, unit_picked = _copied(OrgUnit, "u", ("id", "code", "name", "path"))
    names, picked = _copied(
        Member, "m", ("id", "phone_hash", "id_hash", "community_id", "org_id", "microgrid_id")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO orgs_orgunit ({unit_names}, code, name, path) "  # noqa: S608
            f"SELECT {unit_picked}, 'X-C' || lpad(g::text, 4, '0'), '社区' || g::text, "
            "replace(u.path, 'X-C0000', 'X-C' || lpad(g::text, 4, '0')) "
            "FROM orgs_orgunit u CROSS JOIN generate_series(1, 1999) g WHERE u.id = %s",
            [model.pk],
        )
        others = list(OrgUnit.objects.filter(code__startswith="X-C").values_list("pk", flat=True))
        cursor.execute(
            f"INSERT INTO members_member ({names}, phone_hash, id_hash, community_id, org_id, microgrid_id) "  # noqa: S608
            f"SELECT {picked}, md5('plan' || g::text || '-' || m.id::text), NULL, c.id, c.id, NULL "
            "FROM members_member m CROSS JOIN generate_series(1, 8000) g "
            "JOIN orgs_orgunit c ON c.id = (%s::bigint[])[1 + g %% 2000] WHERE m.community_id = %s",
            [others, tree.community_a.pk],
        )
        _analyze(cursor)
    assert Member.objects.count() > 40_000
    return personas


def _plans(run) -> list[tuple[str, str]]:
    with CaptureQueriesContext(connection) as queries:
        response = run()
    assert response.status_code == 200, response.content[:300]
    plans = []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            sql = query["sql"]
            if sql.lstrip().upper().startswith("SELECT") and '"members_member"' in sql:
                cursor.execute("EXPLAIN " + sql)
                plans.append((sql, "\n".join(row[0] for row in cursor.fetchall())))
    assert plans, "the request ran no query on the member table"
    return plans


def _assert_no_seq_scan(plans):
    for sql, plan in plans:
        assert not re.search(r"Seq Scan on members_member\b", plan), f"{sql}\n\n{plan}"


def test_member_lists_use_indexes(client, scale):
    personas = scale
    for user in (personas.secretary_a, personas.street_admin):
        _row, token = token_issue(actor=personas.superuser, user=user, name="plans")
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        body = client.get("/api/v1/members/", **bearer).json()
        assert body["count"] == 5
        _assert_no_seq_scan(_plans(lambda bearer=bearer: client.get("/api/v1/members/", **bearer)))
        pending = "/api/v1/members/?status=pending"
        _assert_no_seq_scan(_plans(lambda bearer=bearer, pending=pending: client.get(pending, **bearer)))
        client.force_login(user)
        _assert_no_seq_scan(_plans(lambda: client.get("/members/")))


def test_member_counts_join_only_what_their_filters_need(client, scale):
    """The count of a member list selects the file's key alone: the community, microgrid and point joins of
    the shown columns stay out of it (with them, PostgreSQL joined every counted file to its community)."""
    personas = scale
    client.force_login(personas.superuser)
    for path in ("/members/?page=2", "/api/v1/members/"):
        counts = [
            part for sql, _plan in _plans(lambda path=path: client.get(path)) for part in counts_in(sql)
        ]
        assert counts, f"{path} counted nothing"
        for sql in counts:
            assert '"orgs_registrationpoint"' not in sql and " T3 " not in sql and " T4 " not in sql, sql
    # A filter's own join stays: a community filter counts that community's files only.
    body = client.get("/api/v1/members/?community=X-C0001").json()
    assert body["count"] == Member.objects.filter(community__code="X-C0001").count() > 0


def _files_read(plan: dict) -> int:
    """Rows the scans of a JSON ``EXPLAIN ANALYZE`` plan read from the member table, all loops counted."""
    own = 0
    if plan.get("Relation Name") == "members_member":
        # Both figures are a loop's average.
        own = (plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)) * plan["Actual Loops"]
    return own + sum(_files_read(child) for child in plan.get("Plans", ()))


@pytest.fixture
def street_in_a_city(scale):
    """The street's own tree as a city has it (25 communities, about 1,200 units) and its own files: 1,500
    more, spread over its communities, next to the other street's 2,000 communities, 18,000 units below them and 40,000 files,
    which come first in path order (about one unit in ten a community, as in a city). Returns the personas
    and how many files the street holds."""
    personas = scale
    tree = personas.tree
    names, picked = _copied(Member, "m", ("id", "phone_hash", "id_hash", "community_id", "org_id"))
    unit_names, unit_picked = _copied(OrgUnit, "u", ("id", "code", "name", "path", "parent_id", "kind"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO orgs_orgunit ({unit_names}, code, name, path, parent_id, kind) "  # noqa: S608
            f"SELECT {unit_picked}, 'KJ-U' || g::text, '单元' || g::text, u.path || 'KJ-U' || g::text || '/', "
            "u.id, 'estate' FROM orgs_orgunit u CROSS JOIN generate_series(1, 1200) g WHERE u.id = %s",
            [tree.community_a.pk],
        )
        cursor.execute(
            f"INSERT INTO orgs_orgunit ({unit_names}, code, name, path, parent_id, kind) "  # noqa: S608
            f"SELECT {unit_picked}, 'X-U' || g::text, '单元' || g::text, c.path || 'X-U' || g::text || '/', "
            "c.id, 'estate' FROM generate_series(1, 18000) g "
            "JOIN orgs_orgunit c ON c.code = 'X-C' || lpad((g %% 2000)::text, 4, '0') "
            "JOIN orgs_orgunit u ON u.id = %s",
            [tree.community_a.pk],
        )
        cursor.execute(
            f"INSERT INTO orgs_orgunit ({unit_names}, code, name, path, parent_id, kind) "  # noqa: S608
            f"SELECT {unit_picked}, 'KJ-CX' || g::text, '居民区' || g::text, u.path || 'KJ-CX' || g::text || '/', "
            "u.id, 'community' FROM orgs_orgunit u CROSS JOIN generate_series(1, 23) g WHERE u.id = %s",
            [tree.area_1.pk],
        )
        communities = list(
            OrgUnit.objects.filter(kind=OrgKind.COMMUNITY, path__startswith=tree.street.path).values_list(
                "pk", flat=True
            )
        )
        assert len(communities) == 25
        cursor.execute(
            f"INSERT INTO members_member ({names}, phone_hash, id_hash, community_id, org_id) "  # noqa: S608
            f"SELECT {picked}, md5('own' || g::text || '-' || m.id::text), NULL, c.id, c.id "
            "FROM members_member m CROSS JOIN generate_series(1, 300) g "
            "JOIN orgs_orgunit c ON c.id = (%s::bigint[])[1 + g %% 25] WHERE m.community_id = %s",
            [communities, tree.community_a.pk],
        )
        _analyze(cursor)
    own = Member.objects.filter(org__path__startswith=tree.street.path).count()
    assert own == 1_505
    return personas, own


def _files_read_by(sqls: list[str]) -> list[tuple[int, str]]:
    """How many files each statement reads, run under ``EXPLAIN ANALYZE``."""
    found = []
    with connection.cursor() as cursor:
        for sql in sqls:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0][0]["Plan"]
            found.append((_files_read(plan), f"{sql}\n{plan}"))
    return found


def test_a_street_admins_first_page_reads_its_own_communities_only(client, street_in_a_city):
    """The 40,000 files of the street before it in path order are not walked: the list reads the street's
    communities first, then their files (before, its first page read 44,955 files to show 50)."""
    personas, own = street_in_a_city
    client.force_login(personas.street_admin)
    for path in ("/members/", "/api/v1/members/", "/api/v1/members/?status=pending"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        shown = [rows_of(query["sql"]) for query in queries.captured_queries]  # a count riding along left out
        listed = [
            sql for sql in shown if '"members_member"' in sql and "LIMIT" in sql and "COUNT(" not in sql
        ]
        assert listed, f"{path} read no page of files"
        for read, explained in _files_read_by(listed):
            assert read <= own, f"{path}\n{explained}"
