"""The member list's order (community path, name, file) through every page and cursor, and its reach for a
person whose part of the tree lies below a community, on SQLite and PostgreSQL (where the list is read
community by community)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kangle.accounts.services import role_assign
from kangle.core.roles import Role
from kangle.members import services
from kangle.members.constants import Channel
from kangle.members.models import Member
from kangle.members.selectors import ROW_ORDER, members_for
from personas import make_user

pytestmark = pytest.mark.django_db


def _register(personas, name: str, phone: str, community, **extra) -> Member:
    return services.member_register(
        actor=personas.street_admin,
        channel=Channel.DESK,
        data={"name": name, "phone": phone, "political_status": "full", "community": community, **extra},
    ).member


@pytest.fixture
def files(personas):
    """57 files over two communities, names repeated across and within them (the file breaks the tie)."""
    tree = personas.tree
    first = _register(personas, "王芳", "13800000001", tree.community_b)
    _register(personas, "李明", "13800000002", tree.community_a)
    _register(personas, "王芳", "13800000003", tree.community_a)
    clones = []
    for index in range(54):
        clone = Member.objects.get(pk=first.pk)
        clone.pk = clone.id = None
        clone.name = ("王芳", "张伟", "李明")[index % 3]
        clone.phone_hash, clone.id_hash = f"clone-{index}", None
        clone.community = (tree.community_a, tree.community_b)[index % 2]
        clone.org = clone.community
        clone.estate = clone.microgrid = clone.building_group = None
        clones.append(clone)
    Member.objects.bulk_create(clones)
    return list(Member.objects.order_by("community__path", "name", "id").values_list("id", flat=True))


def test_every_page_and_cursor_is_in_the_lists_order(client, api, personas, files):
    assert len(files) == 57
    client.force_login(personas.street_admin)
    seen, after = [], None
    while True:
        body = api.get("/members/", limit=7, **({"after": after} if after else {})).json()
        seen += [item["id"] for item in body["items"]]
        after = body["next"]
        if after is None:
            break
    assert seen == files
    body = api.get("/members/", limit=5, offset=20).json()
    assert [item["id"] for item in body["items"]] == files[20:25] and body["count"] == 57
    shown = []
    for page in (1, 2):
        html = client.get(reverse("members:list"), {"page": page}).content.decode()
        shown += [int(part.split('"', 1)[0]) for part in html.split('data-member="')[1:]]
    assert shown == files
    community_b = [
        pk for pk in files if Member.objects.get(pk=pk).community_id == personas.tree.community_b.pk
    ]
    body = api.get("/members/", community="KJ-C08", limit=100).json()
    assert [item["id"] for item in body["items"]] == community_b and body["count"] == len(community_b)


def test_a_grid_leader_lists_the_files_under_the_grid_and_no_other(client, api, personas):
    tree = personas.tree
    inside = [
        _register(personas, name, f"1360000000{n}", tree.community_a, microgrid=tree.microgrid_a.code)
        for n, name in enumerate(("赵六", "钱七"))
    ]
    _register(personas, "孙八", "13600000009", tree.community_a)  # same community, not under the grid
    _register(personas, "周九", "13600000008", tree.community_b)
    expected = [member.pk for member in sorted(inside, key=lambda member: (member.name, member.pk))]
    client.force_login(personas.grid_leader)
    body = api.get("/members/").json()
    assert [item["id"] for item in body["items"]] == expected and body["count"] == 2
    html = client.get(reverse("members:list")).content.decode()
    assert [int(part.split('"', 1)[0]) for part in html.split('data-member="')[1:]] == expected
    assert api.get("/members/", community="KJ-C08").json()["items"] == []
    assert (
        'data-member="' not in client.get(reverse("members:list"), {"community": "KJ-C08"}).content.decode()
    )


def test_each_row_shows_its_own_micro_grid_and_registration_point(client, api, personas):
    """With or without a micro-grid or a registration point, each row names its file's own (on PostgreSQL both
    are joined once the community's rows are cut)."""
    tree = personas.tree
    with_grid = _register(personas, "甲一", "13500000001", tree.community_a, microgrid=tree.microgrid_a.code)
    without = _register(personas, "乙二", "13500000002", tree.community_a)
    elsewhere = _register(personas, "丙三", "13500000003", tree.community_b)
    Member.objects.filter(pk=with_grid.pk).update(point=tree.point_a)
    Member.objects.filter(pk=elsewhere.pk).update(point=tree.point_b)
    expected = {
        with_grid.pk: (tree.microgrid_a.code, tree.point_a.code),
        without.pk: (None, None),
        elsewhere.pk: (None, tree.point_b.code),
    }
    client.force_login(personas.street_admin)
    items = api.get("/members/", limit=100).json()["items"]
    shown = {item["id"]: (item["microgrid"], item["point"]) for item in items if item["id"] in expected}
    assert shown == expected
    html = client.get(reverse("members:list")).content.decode()
    row = html.split(f'data-member="{with_grid.pk}"', 1)[1].split("</tr>", 1)[0]
    assert tree.microgrid_a.name in row and tree.point_a.name in row


def test_on_sqlite_the_page_sorts_each_communitys_files_not_the_whole_part(client, api, personas, files):
    """SQLite enters by the communities in path order and sorts only within one; before, it sorted every file
    of the person's part on each request. (PostgreSQL reads community by community: test_list_plans.)"""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's plan")
    client.force_login(personas.street_admin)
    with CaptureQueriesContext(connection) as captured:
        assert len(api.get("/members/", limit=5).json()["items"]) == 5
    (rows,) = [query["sql"] for query in captured.captured_queries if "community__path" in query["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {rows}")
        plan = [row[-1] for row in cursor.fetchall()]
    assert any("orgs_unit_kind_path_idx" in step for step in plan), plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan


def test_every_kind_of_person_lists_exactly_the_files_of_their_part(client, api, personas, files):
    """The list (read community by community on PostgreSQL, entered by the communities on SQLite) holds the
    files the scope gives each person, in the list's order: one node, several (nested or apart), none, all."""
    tree = personas.tree
    _register(personas, "网格甲", "13700000001", tree.community_a, microgrid=tree.microgrid_a.code)
    nested = make_user("nested", Role.COMMUNITY_SECRETARY, tree.community_a)
    role_assign(actor=None, user=nested, role=Role.AREA_ADMIN, org=tree.area_1)
    apart = make_user("apart", Role.GRID_LEADER, tree.grid_a)
    role_assign(actor=None, user=apart, role=Role.COMMUNITY_SECRETARY, org=tree.community_b)
    people = [
        personas.superuser,
        personas.street_admin,
        personas.area_admin,
        personas.secretary_a,
        personas.secretary_b,
        personas.grid_leader,
        nested,
        apart,
    ]
    sizes = {}
    for person in people:
        expected = list(members_for(person).order_by(*ROW_ORDER).values_list("id", flat=True))
        client.force_login(person)
        body = api.get("/members/", limit=100).json()
        assert [item["id"] for item in body["items"]] == expected, person.username
        assert body["count"] == len(expected), person.username
        html = client.get(reverse("members:list")).content.decode()
        shown = [int(part.split('"', 1)[0]) for part in html.split('data-member="')[1:]]
        assert shown == expected[:50], person.username
        sizes[person.username] = len(expected)
    assert sizes["grid_leader"] == 1 and sizes["apart"] == 1 + sizes["secretary_b"] > 1
    assert sizes["nested"] == sizes["area_admin"] < sizes["street_admin"] <= sizes["root"]
