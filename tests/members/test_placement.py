"""A moved unit takes its member files along: the places a file names besides its unit (community, estate,
micro-grid, building group) are the units of those kinds on its unit's way up, the member's role at the
community follows the file, and the data migration placed the files moved before."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps

from kangle.accounts.models import RoleAssignment, User
from kangle.core.errors import UserError
from kangle.core.models import AuditEvent
from kangle.core.roles import Role
from kangle.members.models import Member
from kangle.orgs import services
from kangle.orgs.models import OrgUnit
from points.conftest import make_member

pytestmark = pytest.mark.django_db


def _admin(personas) -> User:
    return User.objects.get(pk=personas.street_admin.pk)


def _files(personas):
    """A file in each of community A's places below the estate, one in the estate, one in the community."""
    tree = personas.tree
    return {
        "building": make_member(
            tree.building_group_a, community=tree.community_a, microgrid=tree.microgrid_a, name="楼组"
        ),
        "microgrid": make_member(tree.microgrid_a, community=tree.community_a, microgrid=tree.microgrid_a),
        "estate": make_member(tree.estate_a, community=tree.community_a, name="小区"),
        "community": make_member(tree.community_a, name="社区"),
    }


def _places(member: Member) -> tuple:
    member.refresh_from_db()
    return (member.community_id, member.estate_id, member.microgrid_id, member.building_group_id)


def test_a_grid_moved_to_another_community_takes_its_files_along(personas):
    tree = personas.tree
    files = _files(personas)
    Member.objects.filter(pk=files["building"].pk).update(
        estate=tree.estate_a, building_group=tree.building_group_a
    )
    services.orgunit_move(actor=_admin(personas), unit=tree.grid_a, new_parent=tree.community_b)
    place = AuditEvent.objects.get(verb="member.place", object_id=str(tree.grid_a.pk))
    assert place.details == {"files": 2}
    # The estate it left is no longer on the way up; the micro-grid and building group moved with it.
    assert _places(files["building"]) == (
        tree.community_b.pk,
        None,
        tree.microgrid_a.pk,
        tree.building_group_a.pk,
    )
    assert _places(files["microgrid"]) == (tree.community_b.pk, None, tree.microgrid_a.pk, None)
    # Files outside the moved subtree are where they were.
    assert _places(files["estate"]) == (tree.community_a.pk, None, None, None)
    assert _places(files["community"]) == (tree.community_a.pk, None, None, None)


def test_a_community_moved_to_another_area_keeps_its_files_as_they_are(personas):
    tree = personas.tree
    files = _files(personas)
    before = {name: _places(member) for name, member in files.items()}
    services.orgunit_move(actor=_admin(personas), unit=tree.community_a, new_parent=tree.area_2)
    assert {name: _places(member) for name, member in files.items()} == before


def test_a_move_that_leaves_files_with_no_community_is_refused_whole(personas):
    tree = personas.tree
    files = _files(personas)
    paths = dict(OrgUnit.objects.values_list("code", "path"))
    with pytest.raises(UserError) as caught:
        # A grid straight under an area: its files would have no community above them.
        services.orgunit_move(actor=_admin(personas), unit=tree.grid_a, new_parent=tree.area_2)
    error = caught.value
    assert (error.code, error.field) == ("files_without_community", "parent")
    assert error.zh == "移动后该单元下的党员档案将没有所属社区，请把它移到某个社区之下"
    assert (
        error.en == "Member files in this unit would have no community above them; move it under a community"
    )
    assert dict(OrgUnit.objects.values_list("code", "path")) == paths  # nothing of the move is kept
    assert _places(files["microgrid"]) == (tree.community_a.pk, None, tree.microgrid_a.pk, None)


def test_a_unit_with_no_files_may_move_anywhere_its_kind_allows(personas):
    tree = personas.tree
    moved = services.orgunit_move(actor=_admin(personas), unit=tree.grid_a, new_parent=tree.area_2)
    assert moved.path == tree.area_2.path + tree.grid_a.code + "/"


def test_the_moved_files_are_listed_in_their_new_community(client, api, personas):
    tree = personas.tree
    files = _files(personas)
    services.orgunit_move(actor=_admin(personas), unit=tree.grid_a, new_parent=tree.community_b)

    def listed(user) -> dict[str, str]:
        client.force_login(user)
        response = api.get("/members/")
        assert response.status_code == 200
        return {row["name"]: row["community"] for row in response.json()["items"]}

    assert listed(personas.secretary_b)[files["microgrid"].name] == tree.community_b.code
    assert files["microgrid"].name not in listed(personas.secretary_a)
    assert listed(personas.street_admin)[files["building"].name] == tree.community_b.code


def test_the_migration_places_the_files_a_move_left_behind(personas):
    tree = personas.tree
    files = _files(personas)
    # A move as it was before files followed: the paths change, the files do not.
    old = tree.grid_a.path
    new = tree.community_b.path + tree.grid_a.code + "/"
    for unit in OrgUnit.objects.filter(path__startswith=old):
        OrgUnit.objects.filter(pk=unit.pk).update(path=new + unit.path[len(old) :])
    OrgUnit.objects.filter(pk=tree.grid_a.pk).update(parent=tree.community_b)
    assert _places(files["microgrid"]) == (tree.community_a.pk, None, tree.microgrid_a.pk, None)
    # And a file naming an estate its unit was taken out of, in the same community.
    stale = make_member(tree.community_a, name="旧小区")
    Member.objects.filter(pk=stale.pk).update(estate=tree.estate_a)
    migration = importlib.import_module("kangle.members.migrations.0010_files_on_their_units_way")
    migration.place_again(django_apps, None)
    assert _places(files["microgrid"]) == (tree.community_b.pk, None, tree.microgrid_a.pk, None)
    assert _places(files["building"])[0] == tree.community_b.pk
    assert _places(files["community"]) == (tree.community_a.pk, None, None, None)
    assert _places(stale) == (tree.community_a.pk, None, None, None)


def test_the_refusal_reaches_the_api_and_the_page_in_both_languages(client, api, personas):
    _files(personas)
    client.force_login(personas.street_admin)
    response = api.post("/orgs/units/KJ-C01-E1-G1/move", {"parent_code": "KJ-A2"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "files_without_community",
        "message": "移动后该单元下的党员档案将没有所属社区，请把它移到某个社区之下",
        "message_en": "Member files in this unit would have no community above them; move it under a community",
        "field": "parent",
    }
    page = client.post("/orgs/units/KJ-C01-E1-G1/move/", {"parent_code": "KJ-A2"})
    assert page.status_code == 400  # the unit's page again, the form showing why
    assert "移动后该单元下的党员档案将没有所属社区" in page.content.decode()
    assert OrgUnit.objects.get(code="KJ-C01-E1-G1").path == "/XH/KJ/KJ-A1/KJ-C01/KJ-C01-E1/KJ-C01-E1-G1/"


def test_a_grid_moved_into_an_estate_names_that_estate(personas):
    tree = personas.tree
    files = _files(personas)
    services.orgunit_move(actor=_admin(personas), unit=tree.grid_a, new_parent=tree.estate_b)
    assert _places(files["microgrid"]) == (tree.community_b.pk, tree.estate_b.pk, tree.microgrid_a.pk, None)


def test_the_members_role_follows_the_file(personas):
    tree = personas.tree
    user = User.objects.create_user(username="moved_member", password=None)
    member = make_member(tree.microgrid_a, community=tree.community_a, microgrid=tree.microgrid_a, user=user)
    RoleAssignment.objects.create(user=user, role=Role.MEMBER, org=tree.community_a)
    other = User.objects.create_user(username="member_of_both", password=None)
    make_member(
        tree.microgrid_a, community=tree.community_a, microgrid=tree.microgrid_a, user=other, name="两地"
    )
    RoleAssignment.objects.create(user=other, role=Role.MEMBER, org=tree.community_a)
    RoleAssignment.objects.create(user=other, role=Role.MEMBER, org=tree.community_b)
    services.orgunit_move(actor=_admin(personas), unit=tree.grid_a, new_parent=tree.community_b)
    assert _places(member)[0] == tree.community_b.pk
    roles = RoleAssignment.objects.filter(role=Role.MEMBER)
    assert list(roles.filter(user=user).values_list("org_id", "is_active")) == [(tree.community_b.pk, True)]
    # Already a member there too: the role it leaves is ended, the one it joins kept.
    assert set(roles.filter(user=other).values_list("org_id", "is_active")) == {
        (tree.community_a.pk, False),
        (tree.community_b.pk, True),
    }


def test_a_file_out_of_place_does_not_stop_a_move_above_its_community(personas):
    tree = personas.tree
    services.orgunit_move(actor=_admin(personas), unit=tree.grid_a, new_parent=tree.area_2)  # no files yet
    misplaced = make_member(tree.grid_a, community=tree.community_a, name="错位")
    district_admin = User.objects.get(pk=personas.superuser.pk)
    moved = services.orgunit_move(actor=district_admin, unit=tree.area_2, new_parent=tree.other_street)
    assert moved.path == tree.other_street.path + tree.area_2.code + "/"
    assert _places(misplaced) == (tree.community_a.pk, None, None, None)
