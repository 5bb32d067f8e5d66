"""A transfer's drop-down lists the person's own communities, however many the city has; any other active
community is found by typing its name or code (the street named next to it) and is still accepted."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from kangle.members import services
from kangle.members.constants import Channel, Status
from kangle.members.models import Member
from kangle.orgs.models import OrgKind
from personas import make_unit

pytestmark = pytest.mark.django_db


def _options(html: str) -> list[str]:
    select = re.search(r'<select name="to_community".*?</select>', html, re.S)
    assert select, "the page has no transfer drop-down"
    return re.findall(r'<option value="([^"]*)"', select.group(0))


@pytest.fixture
def city(personas):
    """The other street holds 400 communities, one of them named like one of this street's."""
    other = personas.tree.other_street
    units = [make_unit(other, OrgKind.COMMUNITY, f"HN-C{n:03d}", f"湖南{n}号居民区") for n in range(399)]
    units.append(make_unit(other, OrgKind.COMMUNITY, "HN-GL", "桂林苑居民区"))
    member = services.member_register(
        actor=personas.street_admin,
        channel=Channel.DESK,
        data={"name": "王芳", "phone": "13800000001", "political_status": "full", "community": "KJ-C01"},
    ).member
    return personas, member, units


def test_the_drop_down_lists_the_persons_own_communities(client, city):
    personas, member, _units = city
    client.force_login(personas.street_admin)
    html = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert _options(html) == ["", "KJ-C01", "KJ-C08"]
    assert 'id="id_community_query"' in html and reverse("members:community-search") in html
    client.force_login(personas.secretary_a)
    html = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert _options(html) == ["", "KJ-C01"]


def test_another_community_is_found_by_name_or_code_and_accepted(client, city):
    personas, member, units = city
    client.force_login(personas.secretary_a)
    search = reverse("members:community-search")
    found = client.get(search, {"community_query": "桂林苑"}).content.decode()
    assert re.findall(r'<option value="([^"]*)">([^<]*)', found) == [
        ("", "---------"),
        ("HN-GL", "桂林苑居民区（湖南街道）"),
        ("KJ-C08", "桂林苑居民区（康健街道）"),
    ]
    by_code = client.get(search, {"community_query": "hn-c01"}).content.decode()
    assert re.findall(r'<option value="([^"]*)"', by_code)[1:] == [f"HN-C01{n}" for n in range(10)]
    many = client.get(search, {"community_query": "湖南"}).content.decode()
    assert len(re.findall(r'<option value="HN-', many)) == 20, "at most 20 matches"
    # Nothing typed: the person's own communities again.
    assert re.findall(
        r'<option value="([^"]*)"', client.get(search, {"community_query": "  "}).content.decode()
    ) == [
        "",
        "KJ-C01",
    ]
    response = client.post(reverse("members:action", args=[member.pk, "transfer"]), {"to_community": "HN-GL"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.community == units[-1] and member.status == Status.TRANSFERRED


@pytest.mark.parametrize("typed", ["%", "_", "'; DROP TABLE x; --", "没有这个地方", "x" * 500])
def test_a_search_that_matches_nothing_says_so(client, city, typed):
    personas, _member, _units = city
    client.force_login(personas.street_admin)
    html = client.get(reverse("members:community-search"), {"community_query": typed}).content.decode()
    assert re.findall(r'<option value="([^"]*)">([^<]*)', html) == [("", "没有找到相符的居民区")]


def test_only_staff_may_search(client, city):
    personas, _member, _units = city
    search = reverse("members:community-search")
    assert client.get(search, {"community_query": "桂林苑"}).status_code == 302  # to the login page
    for outsider in (personas.resident, personas.member, personas.contractor):
        client.force_login(outsider)
        assert client.get(search, {"community_query": "桂林苑"}).status_code == 403
    assert Member.objects.count() == 1
