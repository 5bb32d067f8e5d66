"""The member list read community by community (``selectors.listed_members``): the same files in the same order
as the plain subtree test on each file's place, for every staff role; never a file outside the actor's part,
even when a file's place and community disagree; and on SQLite the list's order comes from indexes."""

from __future__ import annotations

import pytest
from django.db import connection

from kangle.members import selectors, services
from kangle.members.constants import Channel
from kangle.members.models import Member

pytestmark = pytest.mark.django_db

STAFF = ["street_admin", "area_admin", "secretary_a", "secretary_b", "grid_leader"]


def _register(personas, name: str, phone: str, community, **place):
    return services.member_register(
        actor=personas.street_admin,
        channel=Channel.DESK,
        data={"name": name, "phone": phone, "political_status": "full", "community": community, **place},
    ).member


@pytest.fixture
def files(personas):
    tree = personas.tree
    # Names that sort differently from their registration order, in two communities and one micro-grid.
    for index, name in enumerate(["王五", "张三", "李四", "赵六"]):
        _register(personas, name, f"1380000{index:04d}", tree.community_a)
        _register(personas, name, f"1370000{index:04d}", tree.community_b)
    _register(personas, "钱七", "13600000001", tree.community_a, microgrid=tree.microgrid_a)
    _register(personas, "孙八", "13600000002", tree.community_a, microgrid=tree.microgrid_a)
    return personas


def _ids(rows) -> list[int]:
    return [row["id"] for row in selectors.member_rows(rows)]


@pytest.mark.parametrize("username", STAFF)
def test_same_files_in_the_same_order_as_the_place_test(files, username):
    actor = getattr(files, username)
    expected = _ids(selectors.members_for(actor))
    assert expected  # each of them has files in their part
    assert _ids(selectors.listed_members(actor)) == expected
    # Community and above walk the communities; a grid leader's grid lies below one.
    assert selectors.lists_by_community(actor) == (username != "grid_leader")


def test_a_file_whose_place_and_community_disagree_is_never_shown_outside(files):
    tree = files.tree
    # Written by hand: community B, but placed in a micro-grid of community A.
    stray = _register(files, "周九", "13500000009", tree.community_b)
    Member.objects.filter(pk=stray.pk).update(org=tree.microgrid_a)
    for username in STAFF:
        actor = getattr(files, username)
        listed = set(_ids(selectors.listed_members(actor)))
        assert listed <= set(_ids(selectors.members_for(actor))), username  # it only narrows
    assert stray.pk not in _ids(selectors.listed_members(files.secretary_b))  # not B's by its place


def test_the_member_list_pages_and_api_agree_for_the_grid_leader_and_the_street(client, api, files):
    for username, count in (("grid_leader", 2), ("street_admin", 10)):
        client.force_login(getattr(files, username))
        body = api.get("/members/").json()
        assert body["count"] == count, username
        assert [item["id"] for item in body["items"]] == _ids(selectors.members_for(getattr(files, username)))


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_sqlite_reads_the_street_list_in_order_without_sorting(files):
    rows = selectors.member_rows(selectors.listed_members(files.street_admin))[:51]
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " / ".join(str(row[-1]) for row in cursor.fetchall())
    assert "members_community_name_idx" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
