"""Navigation by role and by half: groups, per-role snapshot, default groups, breadcrumb, search."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kangle.core import navigation
from kangle.core.crypto import blind_index
from kangle.core.roles import Role
from kangle.members.constants import Channel, Status
from kangle.members.models import Member

# What each staff role sees, group by group (a change here is a deliberate navigation change).
SNAPSHOT = {
    Role("street_admin"): {
        "kangle": [
            "members:list",
            "members:new",
            "posts:list",
            "activities:list",
            "activities:calls",
            "activities:records",
            "recognition:nominations",
            "recognition:manage-stories",
        ],
        "cases": [
            "cases:desk-queue",
            "cases:desk-overdue",
            "cases:desk-new",
            "cases:ref-categories",
            "cases:ref-contractors",
            "cases:ref-calendar",
        ],
        "termite": [
            "prevention:dashboard",
            "prevention:points",
            "prevention:rounds",
            "prevention:warnings",
            "prevention:campaigns",
            "prevention:m-home",
        ],
        "figures": [
            "reports:cockpit",
            "members:base-numbers",
            "points:rankings",
            "recognition:letters",
            "cases:figures",
            "activities:figures",
        ],
        "manage": [
            "orgs:registration-points",
            "orgs:venues",
            "members:employers",
            "posts:catalogue",
            "points:rules",
            "points:manage-benefits",
            "drills:homes",
            "people:list",
            "people:audit",
        ],
    },
    Role("area_admin"): {
        "kangle": [
            "members:list",
            "members:new",
            "posts:list",
            "activities:list",
            "activities:calls",
            "activities:records",
            "recognition:nominations",
            "recognition:manage-stories",
        ],
        "cases": [
            "cases:desk-queue",
            "cases:desk-overdue",
            "cases:desk-new",
        ],
        "termite": [
            "prevention:dashboard",
            "prevention:points",
            "prevention:rounds",
            "prevention:warnings",
            "prevention:campaigns",
            "prevention:m-home",
        ],
        "figures": [
            "reports:cockpit",
            "members:base-numbers",
            "points:rankings",
            "recognition:letters",
            "cases:figures",
            "activities:figures",
        ],
        "manage": [
            "orgs:registration-points",
            "orgs:venues",
            "members:employers",
            "points:rules",
            "points:manage-benefits",
            "drills:homes",
            "people:list",
            "people:audit",
        ],
    },
    Role("community_secretary"): {
        "kangle": [
            "members:list",
            "members:new",
            "posts:list",
            "activities:list",
            "activities:calls",
            "activities:records",
            "recognition:nominations",
            "recognition:manage-stories",
        ],
        "cases": [
            "cases:desk-queue",
            "cases:desk-overdue",
            "cases:desk-new",
        ],
        "figures": [
            "members:base-numbers",
            "points:rankings",
            "recognition:letters",
            "cases:figures",
            "activities:figures",
        ],
        "manage": [
            "orgs:registration-points",
            "orgs:venues",
            "members:employers",
            "points:rules",
            "points:manage-benefits",
            "drills:homes",
        ],
    },
    Role("community_staff"): {
        "kangle": [
            "members:list",
            "members:new",
            "posts:list",
            "activities:list",
            "activities:calls",
            "activities:records",
            "recognition:nominations",
            "recognition:manage-stories",
        ],
        "cases": [
            "cases:desk-queue",
            "cases:desk-overdue",
            "cases:desk-new",
        ],
        "manage": [
            "orgs:registration-points",
            "orgs:venues",
            "members:employers",
            "points:rules",
            "points:manage-benefits",
            "drills:homes",
        ],
    },
    Role("grid_leader"): {
        "kangle": [
            "members:list",
            "posts:list",
            "activities:list",
            "activities:calls",
            "activities:records",
            "recognition:nominations",
            "activities:grid",
        ],
        "cases": [
            "cases:desk-queue",
            "cases:desk-overdue",
            "cases:desk-new",
        ],
        "manage": [
            "orgs:registration-points",
            "orgs:venues",
            "members:employers",
            "points:rules",
            "drills:homes",
        ],
    },
    Role("employer_party_org"): {
        "kangle": [
            "members:collective",
            "activities:party-calls",
        ],
    },
}


def _nav(role) -> dict:
    items = navigation.entries_for({role}, is_superuser=False, area="workbench")
    return {
        group["key"]: [item["url_name"] for item in group["items"]] for group in navigation.grouped(items)
    }


@pytest.mark.parametrize("role", list(SNAPSHOT))
def test_each_role_sees_its_groups(role):
    assert _nav(role) == SNAPSHOT[role]


def test_no_group_is_long_and_the_secretary_sees_no_termite_pages():
    for role in SNAPSHOT:
        for urls in _nav(role).values():
            assert len(urls) <= 9  # ~8: the street admin's 管理 holds nine
    assert "termite" not in _nav(Role.COMMUNITY_SECRETARY)
    assert set(_nav(Role.STREET_ADMIN)) == set(navigation.GROUPS)


def test_plain_register_lands_in_the_group_of_its_namespace():
    assert navigation.default_group("cases:desk-queue") == navigation.CASES
    assert navigation.default_group("prevention:points") == navigation.TERMITE
    assert navigation.default_group("members:list") == navigation.KANGLE
    assert navigation.default_group("activities:figures") == navigation.FIGURES
    assert navigation.default_group("orgs:venues") == navigation.MANAGE
    with pytest.raises(ValueError):
        navigation.register("x", "orgs:venues", {Role.STREET_ADMIN}, group="nowhere")


@pytest.mark.django_db
def test_breadcrumb_on_a_detail_page(client, personas):
    client.force_login(personas.secretary_a)
    page = client.get("/activities/calls/").content.decode()
    assert 'class="breadcrumb"' in page
    crumbs = navigation.breadcrumb(
        navigation.entries_for({Role.COMMUNITY_SECRETARY}, is_superuser=False, area="workbench"),
        "/cases/desk/KJ-1/",
        "cases:desk-detail",
    )
    assert [str(c["label"]) for c in crumbs][-1] == str(
        next(e.label for e in navigation._entries if e.url_name == "cases:desk-queue")
    )


def _member(community, name, phone):
    return Member.objects.create(
        community=community,
        org=community,
        name=name,
        phone=phone,
        phone_hash=blind_index(phone),
        political_status="full",
        channel=Channel.PHONE,
        status=Status.APPROVED,
        registered_at=timezone.now(),
    )


@pytest.mark.django_db
def test_search_finds_members_within_scope_only(client, personas):
    mine = _member(personas.tree.community_a, "王小明", "13911112222")
    other = _member(personas.tree.community_b, "王小红", "13933334444")
    client.force_login(personas.secretary_a)
    page = client.get("/reports/search/", {"q": "王小"}).content.decode()
    assert f'data-member="{mine.pk}"' in page
    assert f'data-member="{other.pk}"' not in page
    by_phone = client.get("/reports/search/", {"q": "139 1111 2222"}).content.decode()
    assert f'data-member="{mine.pk}"' in by_phone
    outsider = client.get("/reports/search/", {"q": "13933334444"}).content.decode()
    assert 'id="search-empty"' in outsider


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["' OR 1=1 --", '"><script>alert(1)</script>', "%_%", "\\x00;DROP TABLE"])
def test_search_input_with_sql_or_markup_is_data(client, personas, text):
    _member(personas.tree.community_a, "王小明", "13911112222")
    client.force_login(personas.secretary_a)
    response = client.get("/reports/search/", {"q": text})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert 'data-member="' not in body


@pytest.mark.django_db
def test_search_is_for_staff(client, personas):
    client.force_login(personas.member)
    assert client.get("/reports/search/", {"q": "x"}).status_code == 403
