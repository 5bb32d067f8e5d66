"""Phone pages: the shared layout (landmarks, one h1, zh-Hans, five tabs at most), large type, the member
home, 我的, and the grid leader's phone pages with their outsiders."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from kangle.accounts.models import User
from kangle.activities import services as activity_services
from kangle.activities.models import WhistleCall
from kangle.core.crypto import blind_index
from kangle.core.roles import Role
from kangle.members.constants import Channel, Status
from kangle.members.models import Member
from personas import make_user

pytestmark = pytest.mark.django_db


def _member_file(personas, *, status=Status.PENDING, name="李四", user=None, org=None) -> Member:
    return Member.objects.create(
        community=personas.tree.community_a,
        org=org or personas.tree.microgrid_a,
        microgrid=personas.tree.microgrid_a,
        user=user or personas.member,
        name=name,
        phone="13900000006" if user is None else "13700000077",
        phone_hash=blind_index("13900000006" if user is None else "13700000077"),
        political_status="full",
        channel=Channel.PHONE,
        status=status,
        registered_at=timezone.now(),
    )


def _tabs(html: str) -> list[str]:
    nav = re.search(r'<nav class="ph-tabbar".*?</nav>', html, re.S)
    return re.findall(r'class="ph-tab[^"]*"[^>]*>([^<]+)</a>', nav.group(0)) if nav else []


def _assert_layout(html: str) -> None:
    assert '<html lang="zh-Hans">' in html
    assert html.count("<main") == 1
    assert len(re.findall(r"<h1[ >]", html)) == 1
    assert "<header" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline scripts are refused by the CSP"


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("member", ["首页", "服务", "活动", "积分", "我的"]),
        ("resident", ["首页", "报事", "我的报事", "我的"]),
        ("contractor", ["首页", "派单", "巡查", "我的"]),
        ("grid_leader", ["网格", "待办", "消息", "我的"]),
    ],
)
def test_every_phone_role_has_at_most_five_tabs(client, personas, persona, expected):
    if persona == "member":
        _member_file(personas, status=Status.APPROVED)
    client.force_login(getattr(personas, persona))
    response = client.get("/", follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    _assert_layout(html)
    assert _tabs(html) == expected


def test_member_and_grid_leader_together_still_get_five_tabs_with_me_last(client, personas):
    from kangle.accounts.services import role_assign

    _member_file(personas, status=Status.APPROVED)
    role_assign(actor=None, user=personas.member, role=Role.GRID_LEADER, org=personas.tree.grid_a)
    client.force_login(User.objects.get(pk=personas.member.pk))
    tabs = _tabs(client.get("/points/me/").content.decode())
    assert len(tabs) == 5 and tabs[-1] == "我的"


def test_member_home_shows_what_happens_next_while_pending(client, personas):
    _member_file(personas, status=Status.PENDING)
    client.force_login(personas.member)
    response = client.get("/", follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == "/members/m/home/"
    assert 'data-testid="next-steps"' in html and "3 个工作日内审核" in html
    assert 'data-testid="home-points"' in html and 'data-testid="home-activity"' in html
    assert 'data-testid="home-call"' not in html  # calls are for approved members


def test_member_home_shows_an_open_call_for_their_grid(client, personas):
    _member_file(personas, status=Status.APPROVED)
    moment = timezone.now()
    call = activity_services.call_create(
        actor=personas.secretary_a,
        org=personas.tree.community_a,
        title="扫雪",
        description="",
        place="康乐小区",
        starts_at=moment + dt.timedelta(days=1),
        ends_at=moment + dt.timedelta(days=1, hours=2),
        people_needed=3,
        deadline=moment + dt.timedelta(hours=12),
        grids=[personas.tree.grid_a],
    )
    client.force_login(personas.member)
    html = client.get("/members/m/home/").content.decode()
    assert 'data-testid="home-call"' in html and call.title in html


def test_me_lists_everything_not_in_the_tab_bar(client, personas):
    _member_file(personas, status=Status.APPROVED)
    client.force_login(personas.member)
    html = client.get("/accounts/me/").content.decode()
    _assert_layout(html)
    for page in (
        "/members/me/",
        "/posts/mine/",
        "/activities/m/calls/",
        "/points/benefits/",
        "/notify/inbox/",
    ):
        assert f'href="{page}"' in html


def test_me_needs_a_login(client, db):
    assert client.get("/accounts/me/")["Location"].startswith("/accounts/login/")


def test_large_type_before_login_is_remembered_by_the_device(client, db):
    response = client.post("/accounts/text-size/", {"large": "1", "next": "/notify/code/"})
    assert response["Location"] == "/notify/code/"
    assert response.cookies["kangle_large_type"].value == "1"
    html = client.get("/notify/code/").content.decode()
    assert 'class="phone ph-large"' in html and 'aria-pressed="true"' in html
    client.post("/accounts/text-size/", {"large": "0"})
    assert 'class="phone"' in client.get("/notify/code/").content.decode()


def test_large_type_is_remembered_for_the_person(client, personas):
    client.force_login(personas.resident)
    client.post("/accounts/text-size/", {"large": "1", "next": "https://elsewhere.example/"})
    assert User.objects.get(pk=personas.resident.pk).large_type is True
    client.cookies.clear()
    client.force_login(personas.resident)  # another phone: no cookie, the person's setting still holds
    assert 'class="phone ph-large"' in client.get("/", follow=True).content.decode()


def test_large_type_switch_takes_only_posts(client, db):
    assert client.get("/accounts/text-size/").status_code == 405


# --- grid leader on the phone --------------------------------------------------------------------------
@pytest.fixture
def grid_call(personas):
    moment = timezone.now()
    return activity_services.call_create(
        actor=personas.secretary_a,
        org=personas.tree.community_a,
        title="清理楼道",
        description="",
        place="1号楼",
        starts_at=moment + dt.timedelta(days=1),
        ends_at=moment + dt.timedelta(days=1, hours=2),
        people_needed=2,
        deadline=moment + dt.timedelta(hours=12),
        grids=[personas.tree.grid_a],
    )


def test_grid_leader_home_is_their_grid_on_the_phone(client, personas, grid_call):
    _member_file(personas, status=Status.APPROVED)
    client.force_login(personas.grid_leader)
    response = client.get("/", follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == "/activities/m/grid/"
    _assert_layout(html)
    assert "李四" in html and grid_call.title in html
    assert '<th scope="col">' in html


def test_grid_leader_reports_for_members_on_the_phone(client, personas, grid_call):
    member = _member_file(personas, status=Status.APPROVED)
    client.force_login(personas.grid_leader)
    url = f"/activities/m/grid/calls/{grid_call.pk}/"
    assert "李四" in client.get(url).content.decode()
    # Nothing ticked: the error is shown at the list, in Chinese only.
    html = client.post(url, {}).content.decode()
    assert "请至少选择一名党员" in html and "Choose at least one member" not in html
    response = client.post(url, {"member": [member.pk]})
    assert response.status_code == 302
    assert WhistleCall.objects.get(pk=grid_call.pk).responses.filter(member=member).exists()


def test_grid_to_do_lists_short_calls_and_waiting_registrations(client, personas, grid_call):
    _member_file(personas, status=Status.PENDING, name="王五")
    client.force_login(personas.grid_leader)
    html = client.get("/activities/m/grid/todo/").content.decode()
    assert grid_call.title in html and "王五" in html


def test_grid_pages_are_404_for_anyone_else(client, personas, grid_call):
    for persona in (personas.member, personas.secretary_b, personas.resident):
        client.force_login(persona)
        for url in (
            "/activities/m/grid/",
            "/activities/m/grid/todo/",
            f"/activities/m/grid/calls/{grid_call.pk}/",
        ):
            assert client.get(url).status_code == 404, (persona, url)


def test_another_grids_leader_cannot_open_the_call(client, personas, grid_call):
    other_grid_leader = make_user("leader_b", Role.GRID_LEADER, personas.tree.estate_b)
    client.force_login(other_grid_leader)
    assert client.get(f"/activities/m/grid/calls/{grid_call.pk}/").status_code == 404
    assert client.post(f"/activities/m/grid/calls/{grid_call.pk}/", {"member": ["1"]}).status_code == 404


def test_grid_pages_need_a_login(client, db):
    assert client.get("/activities/m/grid/")["Location"].startswith("/accounts/login/")
