"""The organisation tree: kind rules, codes, moves (refused under its own descendant), API errors."""

from __future__ import annotations

import pytest

from kangle.accounts.models import User
from kangle.core.errors import NotAllowed, UserError
from kangle.orgs import services
from kangle.orgs.models import OrgKind, OrgUnit, RegistrationPoint, Venue, VenueKind
from kangle.orgs.scope import in_scope
from kangle.orgs.selectors import ancestor_of_kind, ancestors, subtree, unit_summary

pytestmark = pytest.mark.django_db


def admin(personas) -> User:
    return User.objects.get(pk=personas.street_admin.pk)


def test_create_follows_the_kind_order(personas):
    tree = personas.tree
    estate = services.orgunit_create(
        actor=admin(personas),
        kind=OrgKind.ESTATE,
        code="KJ-C08-E2",
        name=" 桂林苑2小区 ",
        parent=tree.community_b,
    )
    assert estate.path == "/XH/KJ/KJ-A2/KJ-C08/KJ-C08-E2/"
    assert estate.depth == tree.community_b.depth + 1
    assert estate.name == "桂林苑2小区"
    # Levels may be skipped downwards: a grid straight under a community.
    grid = services.orgunit_create(
        actor=admin(personas), kind=OrgKind.GRID, code="KJ-C08-G9", name="直属网格", parent=tree.community_b
    )
    assert grid.depth == 4


@pytest.mark.parametrize(
    ("kind", "parent_attr"),
    [
        (OrgKind.AREA, "community_a"),  # an area under a community
        (OrgKind.COMMUNITY, "community_a"),  # same level
        (OrgKind.STREET, "area_1"),
        (OrgKind.DISTRICT, "street"),
    ],
)
def test_create_refuses_a_kind_at_or_above_its_parent(personas, kind, parent_attr):
    parent = getattr(personas.tree, parent_attr)
    with pytest.raises(UserError) as caught:
        services.orgunit_create(actor=admin(personas), kind=kind, code="NEW-1", name="新节点", parent=parent)
    assert caught.value.code == "invalid_kind"
    assert caught.value.field == "kind"
    assert not OrgUnit.objects.filter(code="NEW-1").exists()


def test_create_refuses_an_unknown_kind(personas):
    with pytest.raises(UserError) as caught:
        services.orgunit_create(
            actor=admin(personas), kind="planet", code="NEW-1", name="x", parent=personas.tree.community_a
        )
    assert caught.value.code == "invalid_kind"
    assert "planet" in caught.value.zh and "planet" in caught.value.en


def test_create_refuses_a_duplicate_code(personas):
    with pytest.raises(UserError) as caught:
        services.orgunit_create(
            actor=admin(personas),
            kind=OrgKind.ESTATE,
            code="KJ-C08-E1",
            name="重复",
            parent=personas.tree.community_b,
        )
    assert caught.value.code == "duplicate_code"
    assert caught.value.field == "code"
    assert "KJ-C08-E1" in caught.value.zh and "KJ-C08-E1" in caught.value.en
    assert OrgUnit.objects.filter(code="KJ-C08-E1").count() == 1


@pytest.mark.parametrize("code", ["", "有中文", "a b", "x" * 41, "KJ/C01"])
def test_create_refuses_a_malformed_code(personas, code):
    with pytest.raises(UserError) as caught:
        services.orgunit_create(
            actor=admin(personas), kind=OrgKind.ESTATE, code=code, name="x", parent=personas.tree.community_b
        )
    assert caught.value.code == "invalid_code"
    assert caught.value.field == "code"


def test_create_refuses_a_blank_name(personas):
    with pytest.raises(UserError) as caught:
        services.orgunit_create(
            actor=admin(personas),
            kind=OrgKind.ESTATE,
            code="KJ-C08-E3",
            name="   ",
            parent=personas.tree.community_b,
        )
    assert caught.value.field == "name"


def test_only_a_superuser_creates_a_root_and_only_a_district_is_a_root(personas):
    with pytest.raises(NotAllowed):
        services.orgunit_create(
            actor=admin(personas), kind=OrgKind.DISTRICT, code="CN", name="长宁区", parent=None
        )
    with pytest.raises(UserError) as caught:
        services.orgunit_create(
            actor=personas.superuser, kind=OrgKind.STREET, code="S1", name="x", parent=None
        )
    assert caught.value.code == "parent_required"
    root = services.orgunit_create(
        actor=personas.superuser, kind=OrgKind.DISTRICT, code="CN", name="长宁区", parent=None
    )
    assert (root.path, root.depth) == ("/CN/", 0)


def test_a_secretary_may_not_change_the_tree_even_in_their_community(personas):
    secretary = User.objects.get(pk=personas.secretary_a.pk)
    with pytest.raises(NotAllowed):
        services.orgunit_create(
            actor=secretary, kind=OrgKind.ESTATE, code="KJ-C01-E7", name="x", parent=personas.tree.community_a
        )
    with pytest.raises(NotAllowed):
        services.orgunit_update(actor=secretary, unit=personas.tree.community_a, name="改名")
    assert OrgUnit.objects.get(code="KJ-C01").name == "康乐居民区"


# --- moves ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["community_a", "estate_a", "microgrid_a", "building_group_a"])
def test_moving_a_unit_under_itself_or_its_descendant_is_refused(personas, target):
    tree = personas.tree
    before = dict(OrgUnit.objects.values_list("code", "path"))
    with pytest.raises(UserError) as caught:
        services.orgunit_move(actor=admin(personas), unit=tree.community_a, new_parent=getattr(tree, target))
    error = caught.value
    assert error.code == "move_into_own_subtree"
    assert error.field == "parent"
    assert error.zh == "不能把节点移到它自己或它的下级之下"
    assert error.en == "A unit cannot be moved under itself or one of its descendants"
    assert str(error).startswith(error.zh)  # Chinese first, then English
    assert dict(OrgUnit.objects.values_list("code", "path")) == before


def test_a_move_rewrites_path_and_depth_of_the_whole_subtree(personas):
    tree = personas.tree
    # The grid of community A (with its micro-grid and building group) goes straight under community B.
    moved = services.orgunit_move(actor=admin(personas), unit=tree.grid_a, new_parent=tree.community_b)
    assert moved.parent_id == tree.community_b.pk
    rows = {u.code: (u.path, u.depth) for u in OrgUnit.objects.all()}
    assert rows["KJ-C01-E1-G1"] == ("/XH/KJ/KJ-A2/KJ-C08/KJ-C01-E1-G1/", 4)
    assert rows["KJ-C01-E1-G1-M1"] == ("/XH/KJ/KJ-A2/KJ-C08/KJ-C01-E1-G1/KJ-C01-E1-G1-M1/", 5)
    assert rows["KJ-C01-E1-G1-M1-B1"] == (
        "/XH/KJ/KJ-A2/KJ-C08/KJ-C01-E1-G1/KJ-C01-E1-G1-M1/KJ-C01-E1-G1-M1-B1/",
        6,
    )
    # Everything else is where it was.
    assert rows["KJ-C01-E1"] == ("/XH/KJ/KJ-A1/KJ-C01/KJ-C01-E1/", 4)
    assert rows["KJ-C08-E1"] == ("/XH/KJ/KJ-A2/KJ-C08/KJ-C08-E1/", 4)
    # Parent links below the moved unit are unchanged, and each path is its parent's path + code.
    for unit in OrgUnit.objects.select_related("parent"):
        if unit.parent is not None:
            assert unit.path == unit.parent.path + unit.code + "/", unit.code
            assert unit.depth == unit.parent.depth + 1, unit.code
    # Scope follows the tree: the building group now belongs to community B's secretary.
    group = OrgUnit.objects.get(code="KJ-C01-E1-G1-M1-B1")
    assert in_scope(User.objects.get(pk=personas.secretary_b.pk), group.path)
    assert not in_scope(User.objects.get(pk=personas.secretary_a.pk), group.path)
    # ancestors() runs from the root down to the unit itself
    assert [a.code for a in ancestors(group)] == [
        "XH",
        "KJ",
        "KJ-A2",
        "KJ-C08",
        "KJ-C01-E1-G1",
        "KJ-C01-E1-G1-M1",
        "KJ-C01-E1-G1-M1-B1",
    ]
    assert ancestor_of_kind(group, OrgKind.AREA).code == "KJ-A2"


def test_a_move_up_a_level_changes_depth_by_the_difference(personas):
    tree = personas.tree
    services.orgunit_move(actor=admin(personas), unit=tree.microgrid_a, new_parent=tree.community_a)
    assert OrgUnit.objects.get(code="KJ-C01-E1-G1-M1").depth == 4
    assert OrgUnit.objects.get(code="KJ-C01-E1-G1-M1-B1").depth == 5
    assert list(subtree(OrgUnit.objects.get(code="KJ-C01-E1-G1")).values_list("code", flat=True)) == [
        "KJ-C01-E1-G1"
    ]


def test_a_move_to_a_parent_of_the_same_or_a_deeper_kind_is_refused(personas):
    tree = personas.tree
    with pytest.raises(UserError) as caught:
        services.orgunit_move(actor=admin(personas), unit=tree.community_a, new_parent=tree.estate_b)
    assert caught.value.code == "invalid_kind"
    assert OrgUnit.objects.get(code="KJ-C01").path == "/XH/KJ/KJ-A1/KJ-C01/"


def test_unit_summary_counts_every_kind_and_everything_below_each_child(personas):
    from collections import Counter

    street = personas.tree.street
    kinds, children = unit_summary(street)
    assert {child.code: below for child, below in children} == {"KJ-A1": 5, "KJ-A2": 2}
    # The kinds, counted here from the units themselves, in the tree's order of kinds.
    expected = Counter(OrgUnit.objects.filter(path__startswith=street.path).values_list("kind", flat=True))
    assert [(kind.value, n) for kind, n in kinds] == [
        (k.value, expected[k.value]) for k in OrgKind if expected[k.value]
    ]
    leaf = OrgUnit.objects.filter(path__startswith=street.path, children__isnull=True).first()
    assert unit_summary(leaf) == ([(OrgKind(leaf.kind), 1)], [])


# --- the same through the API ---------------------------------------------------------------------------


def test_api_move_under_a_descendant_is_a_400_with_both_languages(api, client, personas):
    client.force_login(personas.street_admin)
    response = api.post("/orgs/units/KJ-A1/move", {"parent_code": "KJ-C01"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "move_into_own_subtree",
        "message": "不能把节点移到它自己或它的下级之下",
        "message_en": "A unit cannot be moved under itself or one of its descendants",
        "field": "parent",
    }
    assert OrgUnit.objects.get(code="KJ-A1").path == "/XH/KJ/KJ-A1/"


def test_api_move_and_create(api, client, personas):
    client.force_login(personas.street_admin)
    response = api.post("/orgs/units/KJ-C01/move", {"parent_code": "KJ-A2"})
    assert response.status_code == 200
    assert response.json()["path"] == "/XH/KJ/KJ-A2/KJ-C01/"
    assert response.json()["parent_code"] == "KJ-A2"
    assert OrgUnit.objects.get(code="KJ-C01-E1-G1-M1-B1").path.startswith("/XH/KJ/KJ-A2/KJ-C01/")
    response = api.post(
        "/orgs/units", {"kind": "estate", "code": "KJ-C08-L1", "name": "桂林路 1 弄", "parent_code": "KJ-C08"}
    )
    assert response.status_code == 201
    assert response.json()["depth"] == 4
    children = api.get("/orgs/units/KJ-C08/children").json()["items"]
    assert [c["code"] for c in children] == ["KJ-C08-E1", "KJ-C08-L1"]


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("get", "/orgs/units/NO-SUCH", None),
        ("get", "/orgs/units/NO-SUCH/children", None),
        ("get", "/orgs/registration-points/NO-SUCH", None),
        ("post", "/orgs/units", {"kind": "estate", "code": "X-1", "name": "x", "parent_code": "NO-SUCH"}),
        ("post", "/orgs/units/NO-SUCH/move", {"parent_code": "KJ"}),
        ("post", "/orgs/units/KJ-C01/move", {"parent_code": "NO-SUCH"}),
        ("patch", "/orgs/units/NO-SUCH", {"name": "x"}),
    ],
)
def test_api_unknown_org_code_is_a_404_json_error(api, client, personas, method, path, payload):
    client.force_login(personas.street_admin)
    response = getattr(api, method)(path, payload) if payload is not None else api.get(path)
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert body["message"] == "未找到，或不在您的管辖范围内"
    assert body["message_en"] == "Not found, or outside your scope"


def test_api_unknown_org_code_in_a_filter_is_a_404(api, client, personas):
    client.force_login(personas.superuser)
    for path in ["/orgs/units", "/orgs/venues", "/orgs/registration-points"]:
        response = api.get(path, under="NO-SUCH")
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"


def test_api_validation_errors_name_the_field(api, client, personas):
    client.force_login(personas.street_admin)
    response = api.post("/orgs/units", {"kind": "estate", "code": "KJ-C08-E5", "parent_code": "KJ-C08"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert [f["field"] for f in body["fields"]] == ["name"]
    assert "name" in body["message"] and "name" in body["message_en"]
    response = api.post(
        "/orgs/units",
        {"kind": "estate", "code": "KJ-C08-E5", "name": "x", "parent_code": "KJ-C08", "sort_order": "first"},
    )
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["fields"]] == ["sort_order"]
    response = api.post(
        "/orgs/venues",
        {"org_code": "KJ-C08", "kind": "other", "name": "x", "address": "y", "latitude": "north"},
    )
    assert response.status_code == 422
    assert "latitude" in response.json()["message_en"]
    assert not OrgUnit.objects.filter(code="KJ-C08-E5").exists()


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        (
            {"kind": "planet", "code": "KJ-C08-P1", "name": "x", "parent_code": "KJ-C08"},
            "invalid_kind",
            "kind",
        ),
        (
            {"kind": "estate", "code": "KJ-C01", "name": "x", "parent_code": "KJ-C08"},
            "duplicate_code",
            "code",
        ),
        ({"kind": "area", "code": "KJ-C08-A", "name": "x", "parent_code": "KJ-C08"}, "invalid_kind", "kind"),
        (
            {"kind": "estate", "code": "带空格 的", "name": "x", "parent_code": "KJ-C08"},
            "invalid_code",
            "code",
        ),
    ],
)
def test_api_service_errors_carry_code_field_and_both_messages(api, client, personas, payload, code, field):
    client.force_login(personas.street_admin)
    count = OrgUnit.objects.count()
    response = api.post("/orgs/units", payload)
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == (code, field)
    assert body["message"] and body["message_en"] and body["message"] != body["message_en"]
    assert OrgUnit.objects.count() == count


def test_venue_and_registration_point_rules(personas):
    tree = personas.tree
    street_admin = admin(personas)
    with pytest.raises(UserError) as caught:
        services.registration_point_create(actor=street_admin, org=tree.estate_a, code="P-E", name="x")
    assert (caught.value.code, caught.value.field) == ("invalid_org", "org")
    with pytest.raises(UserError) as caught:
        services.registration_point_create(
            actor=street_admin, org=tree.community_b, code="P-V", name="x", venue=tree.venue_a
        )
    assert caught.value.field == "venue"
    with pytest.raises(UserError) as caught:
        services.venue_create(
            actor=street_admin,
            org=tree.community_b,
            kind=VenueKind.OTHER,
            name="x",
            address="y",
            latitude=91,
            longitude=0,
        )
    assert caught.value.code == "invalid_coordinates"
    venue = services.venue_create(
        actor=street_admin,
        org=tree.area_2,
        kind=VenueKind.WORKSTATION,
        name="第二片区工作站",
        address="桂林路 1 号",
        latitude="31.16",
        longitude="121.42",
    )
    point = services.registration_point_create(
        actor=street_admin, org=tree.area_2, code="P-A2", name="片区报到点", venue=venue
    )
    assert point.get_absolute_url() == "/r/P-A2/"
    assert not Venue.objects.filter(name="x").exists()
    assert not RegistrationPoint.objects.filter(code__in=["P-E", "P-V"]).exists()
