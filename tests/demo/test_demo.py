"""Demo data: deterministic for a seed, the article's numbers, and every demo login sees its own part."""

from __future__ import annotations

import pytest
from django.db import transaction

from kangle import demo
from kangle.accounts.models import RoleAssignment, User
from kangle.demo.accounts import DEMO_ACCOUNTS
from kangle.orgs.models import EstateType, OrgKind, OrgUnit, RegistrationPoint, Venue
from kangle.orgs.selectors import subtree

pytestmark = pytest.mark.django_db

# The tree and the logins; each later part of the product tests its own demo step.
FOUNDATION_STEPS = ["kangle.demo.orgs.build", "kangle.demo.accounts.build"]


def fingerprint() -> tuple:
    return (
        tuple(
            OrgUnit.objects.order_by("path").values_list(
                "code", "name", "kind", "path", "depth", "estate_type", "sort_order", "parent__code"
            )
        ),
        tuple(
            Venue.objects.order_by("org__path", "name", "address").values_list(
                "org__code", "kind", "name", "address", "latitude", "longitude"
            )
        ),
        tuple(
            RegistrationPoint.objects.order_by("code").values_list("code", "name", "org__code", "venue__name")
        ),
        tuple((u.username, u.display_name, u.phone) for u in User.objects.order_by("username")),
        tuple(
            RoleAssignment.objects.order_by("user__username").values_list(
                "user__username", "role", "org__code"
            )
        ),
    )


def build_and_fingerprint(seed: int) -> tuple:
    """Build inside a savepoint, take the fingerprint, roll back: the next build starts from empty again."""
    with transaction.atomic():
        ctx = demo.build(scale="street", seed=seed, steps=FOUNDATION_STEPS)
        result = fingerprint(), dict(ctx.summary)
        transaction.set_rollback(True)
    assert not OrgUnit.objects.exists()
    return result


def test_the_same_seed_builds_the_same_data_and_another_seed_does_not():
    first, summary = build_and_fingerprint(1)
    second, _ = build_and_fingerprint(1)
    other, _ = build_and_fingerprint(2)
    assert first == second
    assert first != other
    units, venues, points, users, roles = first
    assert len(units) == summary["org_units"] and len(venues) == summary["venues"]
    assert len(points) == summary["registration_points"] == 30
    assert len(users) == len(DEMO_ACCOUNTS)


# Runs before the module's shared demo data exists (below): it checks nothing was written.
def test_an_unknown_scale_is_refused():
    with pytest.raises(ValueError, match="scale"):
        demo.build(scale="planet", seed=1)
    assert not OrgUnit.objects.exists()


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker):
    """The tree and the logins, built once for the tests below that only read them (each test still runs
    in its own savepoint), and rolled back after the last of them."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield demo.build(scale="street", seed=1, steps=FOUNDATION_STEPS)
        transaction.set_rollback(True)


def test_thirty_registration_points_on_street_area_and_community_nodes(demo_data):
    points = RegistrationPoint.objects.select_related("org", "venue")
    assert points.count() == 30
    kinds = [point.org.kind for point in points]
    assert set(kinds) == {OrgKind.STREET, OrgKind.AREA, OrgKind.COMMUNITY}
    assert (
        kinds.count(OrgKind.STREET) == 2
        and kinds.count(OrgKind.AREA) == 4
        and kinds.count(OrgKind.COMMUNITY) == 24
    )
    kangjian = OrgUnit.objects.get(code=demo.STREET_CODE)
    assert all(point.org.is_within(kangjian) for point in points)
    assert all(point.venue is not None and point.venue.org.is_within(kangjian) for point in points)
    assert len({point.code for point in points}) == 30


def test_kangjian_has_four_areas_and_twenty_five_communities_with_the_full_depth(demo_data):
    kangjian = OrgUnit.objects.get(code=demo.STREET_CODE, name="康健街道")
    below = subtree(kangjian)
    assert below.filter(kind=OrgKind.AREA).count() == 4
    assert below.filter(kind=OrgKind.COMMUNITY).count() == 25
    for kind in [OrgKind.ESTATE, OrgKind.GRID, OrgKind.MICROGRID, OrgKind.BUILDING_GROUP]:
        assert below.filter(kind=kind).exists(), kind
    assert OrgUnit.objects.get(code="KJ-C01").name == "康乐居民区"
    assert OrgUnit.objects.get(code="KJ-C08").name == "南方居民区"
    assert OrgUnit.objects.get(code="KJ-C08").parent.code == "KJ-A2"
    # Every stored path and depth agrees with the parent links.
    for unit in OrgUnit.objects.select_related("parent"):
        expected = (unit.parent.path if unit.parent else "/") + unit.code + "/"
        assert unit.path == expected, unit.code
        assert unit.depth == (unit.parent.depth + 1 if unit.parent else 0), unit.code


def test_hunan_has_89_estates_and_224_lanes(demo_data):
    hunan = OrgUnit.objects.get(name="湖南街道")
    estates = subtree(hunan).filter(kind=OrgKind.ESTATE)
    assert estates.filter(estate_type=EstateType.ESTATE).count() == 89
    assert estates.filter(estate_type=EstateType.LANE).count() == 224
    assert not estates.exclude(estate_type__in=[EstateType.ESTATE, EstateType.LANE]).exists()
    assert len(set(estates.values_list("name", flat=True))) > 200  # real-looking, mostly distinct names


def test_demo_names_are_generated_not_real_peoples_data(demo_data):
    for user in User.objects.all():
        assert user.display_name, user.username
        assert user.phone.startswith("139") and len(user.phone) == 11


OWN_AND_OUTSIDE = {
    "kj_admin": ("XH-KJ", "XH-HN"),
    "kj_area": ("KJ-A1", "KJ-A2"),
    "kj_sec_a": ("KJ-C01", "KJ-C08"),
    "kj_sec_b": ("KJ-C08", "KJ-C01"),
    "kj_grid": ("KJ-C01-E1-G1", "KJ-C08-E1-G1"),
    "kj_member": ("KJ-C01", "KJ-C08"),
    "kj_employer": ("XH-KJ", "XH-HN"),
    "hn_admin": ("XH-HN", "XH-KJ"),
    "hn_desk": ("HN-A3", "HN-A1"),
    "hn_contractor": ("XH-HN", "XH-KJ"),
    "hn_resident": ("HN-C08", "HN-C01"),
}


def test_every_demo_login_logs_in_and_sees_its_own_part_of_the_tree(client, demo_data):
    assert set(OWN_AND_OUTSIDE) == {username for username, *_ in DEMO_ACCOUNTS}
    names = dict(OrgUnit.objects.values_list("code", "name"))
    for username, _role, code, _where in DEMO_ACCOUNTS:
        own, outside = OWN_AND_OUTSIDE[username]
        assert own == code
        client.logout()
        response = client.post("/accounts/login/", {"username": username, "password": demo.DEMO_PASSWORD})
        assert response.status_code == 302, username
        # A grid leader's home is their grid's phone page (a redirect); everyone else's is the page itself.
        home = client.get("/", follow=True)
        page = home.content.decode()
        if not User.objects.get(username=username).is_workbench_user:
            # Phone users: 我的 names the places their roles sit in (their home is about their next things).
            page = client.get("/accounts/me/").content.decode()
        assert names[own] in page, username
        assert names[outside] not in page, username
        # Staff can open their unit and not the outside one.
        user = User.objects.get(username=username)
        if user.is_workbench_user:
            if not home.redirect_chain:
                assert f'data-unit="{own}"' in page
            assert client.get(f"/orgs/units/{own}/").status_code == 200, username
            assert client.get(f"/orgs/units/{outside}/").status_code == 404, username
        else:
            assert client.get(f"/orgs/units/{own}/").status_code == 404, username


def test_the_printed_logins_name_the_units_the_accounts_really_have(demo_data):
    """`kangle up` prints where each demo login works; it must match the tree."""
    names = dict(OrgUnit.objects.values_list("code", "name"))
    text = demo.logins_text()
    for username, _role, code, where in DEMO_ACCOUNTS:
        assert names[code] in where, (username, names[code], where)
        assert username in text
    assert demo.DEMO_PASSWORD in text


def test_a_demo_login_also_works_by_phone(client, demo_data):
    secretary = User.objects.get(username="kj_sec_a")
    response = client.post("/accounts/login/", {"username": secretary.phone, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302
    assert client.get("/api/v1/accounts/me").json()["username"] == "kj_sec_a"


def test_refs_name_what_later_steps_need(demo_data):
    for key in [
        "street:KJ",
        "street:HN",
        "area:HN-A3",
        "community:KJ-C01",
        "community:HN-C08",
        "venue:living_room",
        "user:hn_desk",
        "user:hn_contractor",
        "user:hn_resident",
        "user:kj_sec_a",
        "user:kj_member",
    ]:
        assert key in demo_data.refs, key
        assert demo_data.refs[key].pk is not None, key
