"""Scope: staff see their own subtree only; everything outside it is a 404 — pages and API alike."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kangle.accounts.models import User
from kangle.accounts.services import role_assign
from kangle.core.roles import Role
from kangle.orgs.models import OrgKind, OrgUnit, RegistrationPoint, Venue, VenueKind
from kangle.orgs.scope import get_in_scope_or_404, in_scope, scope_counted, scope_queryset
from kangle.orgs.selectors import units_under_q
from personas import make_unit, make_user

pytestmark = pytest.mark.django_db

B = "KJ-C08"  # community B, the outsider's
B_ESTATE = "KJ-C08-E1"


def fresh(user: User) -> User:
    """A new instance, as a request would load it (no cached roles)."""
    return User.objects.get(pk=user.pk)


def b_pages(tree) -> list[str]:
    return [
        f"/orgs/units/{B}/",
        f"/orgs/units/{B_ESTATE}/",
        f"/orgs/registration-points/{tree.point_b.code}/qr.svg",
        f"/orgs/registration-points/{tree.point_b.code}/poster/",
    ]


def b_api() -> list[str]:
    return [
        f"/orgs/units/{B}",
        f"/orgs/units/{B}/children",
        f"/orgs/units/{B_ESTATE}",
        "/orgs/registration-points/P-B",
    ]


def b_api_filtered() -> list[tuple[str, dict]]:
    return [
        ("/orgs/units", {"under": B}),
        ("/orgs/venues", {"under": B}),
        ("/orgs/registration-points", {"under": B}),
    ]


def codes(response) -> set[str]:
    return {row["code"] for row in response.json()["items"]}


# --- secretary of community A against community B ---------------------------------------------------


def test_secretary_a_gets_404_on_every_page_of_community_b(client, personas):
    client.force_login(personas.secretary_a)
    for url in b_pages(personas.tree):
        assert client.get(url).status_code == 404, url


def test_secretary_a_opens_the_same_pages_of_community_a(client, personas):
    client.force_login(personas.secretary_a)
    tree = personas.tree
    for url in [
        "/orgs/units/KJ-C01/",
        "/orgs/units/KJ-C01-E1-G1-M1-B1/",
        f"/orgs/registration-points/{tree.point_a.code}/poster/",
    ]:
        assert client.get(url).status_code == 200, url
    qr = client.get(f"/orgs/registration-points/{tree.point_a.code}/qr.svg")
    assert qr.status_code == 200
    assert qr["Content-Type"] == "image/svg+xml"
    assert b"<svg" in qr.content


def test_secretary_a_gets_404_json_on_community_b_in_the_api(api, client, personas):
    client.force_login(personas.secretary_a)
    for path in b_api():
        response = api.get(path)
        assert response.status_code == 404, path
        body = response.json()
        assert body["code"] == "not_found"
        assert body["message"] and body["message_en"]
    for path, params in b_api_filtered():
        response = api.get(path, **params)
        assert response.status_code == 404, (path, params)
        assert response.json()["code"] == "not_found"


def test_secretary_a_lists_hold_nothing_of_community_b(api, client, personas):
    Venue.objects.create(
        org=personas.tree.community_b,
        kind=VenueKind.LEIFENG_PAVILION,
        name="桂林苑雷锋亭",
        address="桂林路 1 号",
    )
    client.force_login(personas.secretary_a)
    units = codes(api.get("/orgs/units"))
    assert "KJ-C01" in units and "KJ-C01-E1-G1-M1-B1" in units
    assert not {B, B_ESTATE, "KJ-A1", "KJ-A2", "KJ", "XH", "HN"} & units
    assert codes(api.get("/orgs/registration-points")) == {"P-A"}
    venues = api.get("/orgs/venues").json()["items"]
    assert [v["org_code"] for v in venues] == ["KJ-C01"]
    listing = client.get("/orgs/registration-points/").content.decode()
    assert "康乐报到点" in listing and "桂林苑报到点" not in listing
    venue_page = client.get("/orgs/venues/").content.decode()
    assert "康乐党群服务站" in venue_page and "桂林苑雷锋亭" not in venue_page
    assert "桂林苑雷锋亭" not in client.get("/orgs/units/KJ-C01/").content.decode()
    client.force_login(personas.secretary_b)
    assert [v["name"] for v in api.get("/orgs/venues").json()["items"]] == ["桂林苑雷锋亭"]


def test_secretary_b_is_the_outsider_for_community_a(api, client, personas):
    client.force_login(personas.secretary_b)
    assert client.get("/orgs/units/KJ-C01/").status_code == 404
    assert client.get("/orgs/registration-points/P-A/poster/").status_code == 404
    assert api.get("/orgs/units/KJ-C01").status_code == 404
    assert api.get("/orgs/units", under="KJ-C01").status_code == 404
    assert codes(api.get("/orgs/units")) == {B, B_ESTATE}


def test_writes_outside_the_scope_are_404_too(api, client, personas):
    client.force_login(personas.street_admin)
    # The street admin of KJ cannot reach 湖南街道, which is beside KJ, not below it.
    response = api.post(
        "/orgs/units", {"kind": OrgKind.AREA, "code": "HN-A9", "name": "x", "parent_code": "HN"}
    )
    assert response.status_code == 404
    assert not OrgUnit.objects.filter(code="HN-A9").exists()
    client.force_login(personas.secretary_a)
    response = api.post(
        "/orgs/units", {"kind": OrgKind.ESTATE, "code": "KJ-C08-E9", "name": "x", "parent_code": B}
    )
    assert response.status_code == 404
    response = api.post("/orgs/units/KJ-C08-E1/move", {"parent_code": "KJ-C01"})
    assert response.status_code == 404
    assert OrgUnit.objects.get(code=B_ESTATE).path == "/XH/KJ/KJ-A2/KJ-C08/KJ-C08-E1/"


def test_secretary_a_may_see_but_not_change_the_tree(api, client, personas):
    """Inside the scope a missing capability is a 403 with a message, and nothing is written."""
    client.force_login(personas.secretary_a)
    response = api.post(
        "/orgs/units",
        {"kind": OrgKind.ESTATE, "code": "KJ-C01-E9", "name": "新小区", "parent_code": "KJ-C01"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not OrgUnit.objects.filter(code="KJ-C01-E9").exists()


# --- the other staff levels ---------------------------------------------------------------------------


def test_area_admin_sees_area_1_not_area_2(api, client, personas):
    client.force_login(personas.area_admin)
    assert client.get("/orgs/units/KJ-A1/").status_code == 200
    assert client.get("/orgs/units/KJ-C01/").status_code == 200
    assert client.get("/orgs/units/KJ-A2/").status_code == 404
    assert client.get(f"/orgs/units/{B}/").status_code == 404
    assert client.get("/orgs/units/KJ/").status_code == 404
    assert codes(api.get("/orgs/units", kind=OrgKind.AREA)) == {"KJ-A1"}
    assert codes(api.get("/orgs/units", kind=OrgKind.COMMUNITY)) == {"KJ-C01"}
    assert api.get("/orgs/units/KJ-A2").status_code == 404
    assert codes(api.get("/orgs/registration-points")) == {"P-A"}


def test_street_admin_sees_the_whole_street_and_nothing_beside_it(api, client, personas):
    client.force_login(personas.street_admin)
    for code in ["KJ", "KJ-A1", "KJ-A2", "KJ-C01", B, "KJ-C01-E1-G1-M1-B1"]:
        assert client.get(f"/orgs/units/{code}/").status_code == 200, code
    assert client.get("/orgs/units/HN/").status_code == 404
    assert client.get("/orgs/units/XH/").status_code == 404
    assert codes(api.get("/orgs/registration-points")) == {"P-ST", "P-A", "P-B"}
    all_codes = codes(api.get("/orgs/units"))
    assert "HN" not in all_codes and "XH" not in all_codes
    assert {"KJ", "KJ-A1", "KJ-A2", "KJ-C01", B} <= all_codes


def test_superuser_sees_everything(api, client, personas):
    client.force_login(personas.superuser)
    for code in ["XH", "KJ", "HN", B, "KJ-C01"]:
        assert client.get(f"/orgs/units/{code}/").status_code == 200, code
    assert codes(api.get("/orgs/units")) == set(OrgUnit.objects.values_list("code", flat=True))
    assert codes(api.get("/orgs/registration-points")) == {"P-ST", "P-A", "P-B"}


def test_grid_leader_sees_only_the_grid(client, personas):
    client.force_login(personas.grid_leader)
    assert client.get("/orgs/units/KJ-C01-E1-G1/").status_code == 200
    assert client.get("/orgs/units/KJ-C01-E1-G1-M1-B1/").status_code == 200
    assert client.get("/orgs/units/KJ-C01-E1/").status_code == 404
    assert client.get("/orgs/units/KJ-C01/").status_code == 404
    assert client.get("/orgs/registration-points/P-A/poster/").status_code == 404


# --- anonymous and wrong roles --------------------------------------------------------------------------


def test_anonymous_is_sent_to_login_on_pages(client, personas):
    for url in [
        "/",
        "/orgs/units/KJ-C01/",
        "/orgs/registration-points/",
        "/orgs/registration-points/P-A/qr.svg",
        "/orgs/registration-points/P-A/poster/",
        "/orgs/venues/",
        "/accounts/tokens/",
        "/notify/inbox/",
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


def test_anonymous_gets_401_json_from_the_api(api, personas):
    for path in [
        "/orgs/units",
        "/orgs/units/KJ-C01",
        "/orgs/units/KJ-C01/children",
        "/orgs/venues",
        "/orgs/registration-points",
        "/orgs/registration-points/P-A",
        "/accounts/me",
        "/accounts/tokens",
    ]:
        response = api.get(path)
        assert response.status_code == 401, path
        body = response.json()
        assert body["code"] == "unauthorized"
        assert body["message"] and body["message_en"]
    response = api.post("/orgs/units", {"kind": "area", "code": "X1", "name": "x", "parent_code": "KJ"})
    assert response.status_code == 401
    assert not OrgUnit.objects.filter(code="X1").exists()


@pytest.mark.parametrize("who", ["member", "resident", "contractor", "employer"])
def test_wrong_roles_get_404_on_workbench_objects(api, client, personas, who):
    """Members, residents, contractors hold a role at a unit, but no staff role: they see no tree object."""
    client.force_login(getattr(personas, who))
    for url in [
        "/orgs/units/KJ-C01/",
        "/orgs/units/HN/",
        "/orgs/registration-points/P-A/qr.svg",
        "/orgs/registration-points/P-A/poster/",
        "/accounts/tokens/",
    ]:
        assert client.get(url).status_code == 404, (who, url)
    for path in [
        "/orgs/units/KJ-C01",
        "/orgs/units/HN",
        "/orgs/units/KJ-C01/children",
        "/orgs/registration-points/P-A",
    ]:
        assert api.get(path).status_code == 404, (who, path)
    assert api.get("/orgs/units").json()["items"] == []
    assert api.get("/orgs/registration-points").json()["items"] == []
    assert api.get("/orgs/venues").json()["items"] == []
    assert client.get("/orgs/registration-points/").status_code == 200
    assert "康乐报到点" not in client.get("/orgs/registration-points/").content.decode()


def test_the_public_registration_page_needs_no_login_but_hides_inactive_points(client, personas):
    assert client.get("/r/P-B/").status_code == 200
    RegistrationPoint.objects.filter(code="P-B").update(is_active=False)
    assert client.get("/r/P-B/").status_code == 404
    assert client.get("/r/NO-SUCH/").status_code == 404


# --- the helper itself ------------------------------------------------------------------------------------


def test_a_code_sharing_a_prefix_is_not_inside_the_subtree(personas):
    """KJ-C01X is not below KJ-C01: the path ends in "/", so the prefix match stops at the code."""
    tree = personas.tree
    lookalike = make_unit(tree.area_1, OrgKind.COMMUNITY, "KJ-C01X", "相似居民区")
    make_unit(lookalike, OrgKind.ESTATE, "KJ-C01X-E1", "相似1小区")
    secretary = fresh(personas.secretary_a)
    visible = set(scope_queryset(secretary, OrgUnit.objects.all(), "path").values_list("code", flat=True))
    assert "KJ-C01X" not in visible and "KJ-C01X-E1" not in visible
    assert "KJ-C01-E1" in visible
    assert not in_scope(secretary, lookalike.path)


def test_scope_helper_is_one_query_whatever_the_number_of_roles(personas, django_assert_num_queries):
    secretary = fresh(personas.secretary_a)
    role_assign(actor=None, user=secretary, role=Role.COMMUNITY_STAFF, org=personas.tree.community_b)
    role_assign(actor=None, user=secretary, role=Role.GRID_LEADER, org=personas.tree.grid_a)
    secretary = fresh(secretary)
    with django_assert_num_queries(1):  # the roles, loaded once per request
        assert len(secretary.scope_paths) == 3
    with django_assert_num_queries(1):
        rows = list(scope_queryset(secretary, OrgUnit.objects.all(), "path"))
    assert {unit.code for unit in rows} >= {"KJ-C01", B, B_ESTATE}
    with django_assert_num_queries(1):
        venues = list(scope_queryset(secretary, Venue.objects.all()))
    assert [v.name for v in venues] == ["康乐党群服务站"]
    with django_assert_num_queries(1):
        point = get_in_scope_or_404(secretary, RegistrationPoint.objects.all(), code="P-B")
    assert point.org_id == personas.tree.community_b.pk


def test_scope_helper_returns_nothing_without_a_query_for_people_without_staff_roles(
    personas, django_assert_num_queries
):
    member = fresh(personas.member)
    member.role_rows  # noqa: B018 - load the roles first
    with django_assert_num_queries(0):
        assert list(scope_queryset(member, OrgUnit.objects.all(), "path")) == []


def test_scope_query_uses_the_path_index_on_sqlite(personas):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's plan")
    secretary = fresh(personas.secretary_a)
    query = scope_queryset(secretary, OrgUnit.objects.all(), "path").query
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
    assert "path" in plan, plan


@pytest.mark.postgres
def test_scope_query_uses_the_path_index_on_postgresql(personas):
    """With sequential scans priced out (the test table is tiny), the planner must find an index on path."""
    secretary = fresh(personas.secretary_a)
    for queryset, path_field in [
        (OrgUnit.objects.all(), "path"),
        (Venue.objects.all(), "org__path"),
    ]:
        sql, params = scope_queryset(secretary, queryset, path_field).query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET enable_seqscan")
        # "Index Only Scan using orgs_unit_path_cover_idx on orgs_orgunit" (migration orgs 0003) for the
        # units themselves, or "Bitmap Index Scan on orgs_orgunit_path_key" and the like.
        assert re.search(r"Index (Only )?Scan (using|on) orgs_(orgunit_path|unit_path_cover)\S*", plan), plan
        assert re.search(r"Index Cond: .*path", plan), plan
        assert "Seq Scan on orgs_orgunit" not in plan, plan


@pytest.mark.postgres
def test_a_subtrees_units_are_read_from_the_path_index_alone_on_postgresql(personas):
    """The ids and kinds of the units under a path (what a capped count tests cases against, what the to-do
    home counts by kind) come from the covering prefix index without visiting the table; and it is the
    table's one prefix index on path (Django's ``…_like`` one is dropped: it answered the same queries)."""
    admin = fresh(personas.street_admin)
    units = scope_queryset(admin, OrgUnit.objects.all(), "path").values("id", "kind")
    sql, params = units.query.sql_with_params()
    with connection.cursor() as cursor:
        # The test table is tiny and never vacuumed inside the test's transaction, so the planner would read
        # it whole, or through a bitmap of the index; with both priced out it must find an index that holds
        # the columns asked for.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_bitmapscan")
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'orgs_orgunit' AND indexdef LIKE %s",
            ["%(path varchar_pattern_ops)%"],
        )
        prefix_indexes = [row[0] for row in cursor.fetchall()]
    assert "Index Only Scan using orgs_unit_path_cover_idx on orgs_orgunit" in plan, plan
    assert prefix_indexes == ["orgs_unit_path_cover_idx"], prefix_indexes
    assert {row["id"] for row in units} >= {personas.tree.community_a.pk, personas.tree.community_b.pk}


# --- list endpoints: the same number of queries for 1 and for 3 rows -------------------------------------


def _add_venues(org, n):
    for i in range(n):
        Venue.objects.create(
            org=org, kind=VenueKind.LEIFENG_PAVILION, name=f"雷锋亭{i}", address=f"康健路 {i} 号"
        )


def _add_points(org, n):
    for i in range(n):
        RegistrationPoint.objects.create(org=org, code=f"P-X{i}", name=f"报到点{i}")


def _add_units(parent, n):
    for i in range(n):
        make_unit(parent, OrgKind.GRID, f"{parent.code}-GX{i}", f"网格{i}")


@pytest.mark.parametrize(
    ("url", "add", "count_kind"),
    [
        ("/api/v1/orgs/venues", _add_venues, "items"),
        ("/api/v1/orgs/registration-points", _add_points, "items"),
        ("/api/v1/orgs/units?kind=grid", _add_units, "items"),
        ("/orgs/venues/", _add_venues, None),
        ("/orgs/registration-points/", _add_points, None),
        ("/orgs/units/KJ-C08/", _add_units, None),
        ("/orgs/units/KJ-C08/", _add_points, None),
        ("/orgs/units/KJ-C08/", _add_venues, None),
    ],
)
def test_list_query_count_does_not_grow_with_rows(
    client, personas, url, add, count_kind, django_assert_num_queries
):
    """secretary_b's community starts with no venue, one point and no grid; 1 row, then 3 rows."""
    client.force_login(personas.secretary_b)
    community_b = personas.tree.community_b
    Venue.objects.filter(org=community_b).delete()
    RegistrationPoint.objects.filter(org=community_b).delete()
    add(community_b, 1)
    with CaptureQueriesContext(connection) as one:
        first = client.get(url)
    assert first.status_code == 200
    if count_kind:
        assert first.json()["count"] == 1
    # two more rows, named so they do not collide with the first
    if add is _add_units:
        for i in range(1, 3):
            make_unit(community_b, OrgKind.GRID, f"{community_b.code}-GY{i}", f"另一网格{i}")
    elif add is _add_points:
        for i in range(1, 3):
            RegistrationPoint.objects.create(org=community_b, code=f"P-Y{i}", name=f"另一报到点{i}")
    else:
        _add_venues(community_b, 2)
    with django_assert_num_queries(len(one.captured_queries)):
        third = client.get(url)
    assert third.status_code == 200
    if count_kind:
        assert third.json()["count"] == 3


def test_a_count_tested_on_unit_ids_holds_the_same_rows_as_the_scope(personas):
    """``scope_counted`` (the unit's id among the part's units, for capped counts, on PostgreSQL), the condition
    it is made of (``units_under_q``, on either database) and ``scope_queryset`` (the unit's path joined) keep
    the same rows for every kind of person, the outsider and the superuser too."""
    tree = personas.tree
    # Several staff nodes: one inside another, and two apart (one of them in another street).
    nested = make_user("nested", Role.COMMUNITY_SECRETARY, tree.community_a)
    role_assign(actor=None, user=nested, role=Role.AREA_ADMIN, org=tree.area_1)
    apart = make_user("apart", Role.GRID_LEADER, tree.grid_a)
    make_unit(tree.other_street, OrgKind.COMMUNITY, "HN-C99", "湖南测试居民区")
    role_assign(actor=None, user=apart, role=Role.STREET_ADMIN, org=tree.other_street)
    units = OrgUnit.objects.all()
    people = [
        nested,
        apart,
        personas.street_admin,
        personas.area_admin,
        personas.secretary_a,
        personas.secretary_b,
        personas.grid_leader,
        personas.member,  # no staff node: nothing
        personas.superuser,
    ]
    kept = {}
    for person in people:
        person = fresh(person)
        joined = set(scope_queryset(person, units, "parent__path").values_list("pk", flat=True))
        counted = set(scope_counted(person, units, "parent").values_list("pk", flat=True))
        assert counted == joined, person.username
        if person.scope_paths:
            among = units.filter(units_under_q(person.scope_paths, "parent"))
            assert set(among.values_list("pk", flat=True)) == joined, person.username
        kept[person.username] = len(counted)
    assert kept["member"] == 0 and 0 < kept["secretary_a"] < kept["street_admin"] < kept["root"]
    assert kept["nested"] == kept["area_admin"] and kept["apart"] > kept["grid_leader"]
    assert set(
        scope_counted(fresh(personas.secretary_a), units, "parent").values_list("code", flat=True)
    ) >= {"KJ-C01-E1"}
