"""The personas every page and endpoint is tested with (ARCHITECTURE.md, Tests).

A small tree — 徐汇区 › 康健街道 › 第一片区 › 康乐居民区 (A) and 第二片区 › 桂林苑居民区 (B) — and one person per
role. ``secretary_b`` is the outsider for everything in community A.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kangle.accounts.models import User
from kangle.accounts.services import role_assign, user_create
from kangle.core.roles import Role
from kangle.orgs.models import EstateType, OrgKind, OrgUnit, RegistrationPoint, Venue, VenueKind
from kangle.orgs.services import build_path

PASSWORD = "correct horse battery"


def make_unit(parent: OrgUnit | None, kind: str, code: str, name: str, **extra) -> OrgUnit:
    return OrgUnit.objects.create(
        kind=kind,
        code=code,
        name=name,
        parent=parent,
        path=build_path(parent, code),
        depth=(parent.depth + 1) if parent else 0,
        **extra,
    )


def make_user(username: str, role: str | None = None, org: OrgUnit | None = None, *, phone: str = "") -> User:
    user = user_create(
        actor=None,
        username=username,
        password=PASSWORD,
        display_name=username,
        phone=phone,
        check_password=False,
    )
    if role is not None:
        role_assign(actor=None, user=user, role=role, org=org)
    return User.objects.get(pk=user.pk)  # fresh instance: no cached roles


@dataclass
class Tree:
    district: OrgUnit
    street: OrgUnit
    area_1: OrgUnit
    area_2: OrgUnit
    community_a: OrgUnit
    community_b: OrgUnit
    estate_a: OrgUnit
    grid_a: OrgUnit
    microgrid_a: OrgUnit
    building_group_a: OrgUnit
    estate_b: OrgUnit
    other_street: OrgUnit
    venue_a: Venue
    point_street: RegistrationPoint
    point_a: RegistrationPoint
    point_b: RegistrationPoint


@dataclass
class Personas:
    tree: Tree
    street_admin: User
    area_admin: User
    secretary_a: User
    secretary_b: User
    grid_leader: User
    member: User
    employer: User
    contractor: User
    resident: User
    superuser: User


@pytest.fixture
def tree(db) -> Tree:
    district = make_unit(None, OrgKind.DISTRICT, "XH", "徐汇区")
    street = make_unit(district, OrgKind.STREET, "KJ", "康健街道")
    area_1 = make_unit(street, OrgKind.AREA, "KJ-A1", "第一片区")
    area_2 = make_unit(street, OrgKind.AREA, "KJ-A2", "第二片区")
    community_a = make_unit(area_1, OrgKind.COMMUNITY, "KJ-C01", "康乐居民区")
    community_b = make_unit(area_2, OrgKind.COMMUNITY, "KJ-C08", "桂林苑居民区")
    estate_a = make_unit(community_a, OrgKind.ESTATE, "KJ-C01-E1", "康乐1小区", estate_type=EstateType.ESTATE)
    grid_a = make_unit(estate_a, OrgKind.GRID, "KJ-C01-E1-G1", "康乐1小区第1网格")
    microgrid_a = make_unit(grid_a, OrgKind.MICROGRID, "KJ-C01-E1-G1-M1", "1号微网格")
    building_group_a = make_unit(microgrid_a, OrgKind.BUILDING_GROUP, "KJ-C01-E1-G1-M1-B1", "1号楼组")
    estate_b = make_unit(
        community_b, OrgKind.ESTATE, "KJ-C08-E1", "桂林苑1小区", estate_type=EstateType.ESTATE
    )
    other_street = make_unit(district, OrgKind.STREET, "HN", "湖南街道")
    venue_a = Venue.objects.create(
        org=community_a, kind=VenueKind.SERVICE_CENTRE, name="康乐党群服务站", address="康健路 300 弄"
    )
    point_street = RegistrationPoint.objects.create(org=street, code="P-ST", name="街道报到点")
    point_a = RegistrationPoint.objects.create(org=community_a, code="P-A", name="康乐报到点", venue=venue_a)
    point_b = RegistrationPoint.objects.create(org=community_b, code="P-B", name="桂林苑报到点")
    return Tree(
        district,
        street,
        area_1,
        area_2,
        community_a,
        community_b,
        estate_a,
        grid_a,
        microgrid_a,
        building_group_a,
        estate_b,
        other_street,
        venue_a,
        point_street,
        point_a,
        point_b,
    )


@pytest.fixture
def personas(tree) -> Personas:
    superuser = make_user("root")
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    return Personas(
        tree=tree,
        street_admin=make_user("street_admin", Role.STREET_ADMIN, tree.street, phone="13900000001"),
        area_admin=make_user("area_admin", Role.AREA_ADMIN, tree.area_1),
        secretary_a=make_user("secretary_a", Role.COMMUNITY_SECRETARY, tree.community_a, phone="13900000003"),
        secretary_b=make_user("secretary_b", Role.COMMUNITY_SECRETARY, tree.community_b),
        grid_leader=make_user("grid_leader", Role.GRID_LEADER, tree.grid_a),
        member=make_user("member", Role.MEMBER, tree.community_a, phone="13900000006"),
        employer=make_user("employer", Role.EMPLOYER_PARTY_ORG, tree.street),
        contractor=make_user("contractor", Role.CONTRACTOR, tree.other_street),
        resident=make_user("resident", Role.RESIDENT, tree.community_a),
        superuser=superuser,
    )
