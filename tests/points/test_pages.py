"""Phone pages (points, benefits) and the rankings workbench page: happy path, anonymous, outsider, wrong
role, and query counts with 1 and 3 rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kangle.points import services

from .conftest import T0, award

pytestmark = pytest.mark.django_db


def test_points_page_shows_rule_per_entry(client, personas, member_a, rule):
    award(member_a, "1", difficulty=5, minutes=600, evidence={"title": "爱心益剪"})
    client.force_login(personas.member)
    page = client.get("/points/me/").content.decode()
    assert 'data-testid="balance">5<' in page and "爱心益剪" in page
    assert "规则 v1" in page and "8 h" in page  # the rule version and the duration band, in Chinese
    assert "积分明细" in page


@pytest.mark.parametrize("rows", [1, 3])
def test_points_page_query_count(client, personas, member_a, rule, rows, django_assert_num_queries):
    for i in range(rows):
        award(member_a, str(i), at=T0 + dt.timedelta(days=i))
    client.force_login(personas.member)
    client.get("/points/me/")  # warm the session
    with django_assert_num_queries(5):
        response = client.get("/points/me/")
    assert response.content.decode().count('data-testid="entry"') == rows


def test_points_pages_anonymous_and_no_file(client, personas):
    assert client.get("/points/me/").status_code == 302
    assert client.get("/points/benefits/").status_code == 302
    client.force_login(personas.secretary_b)
    assert client.get("/points/me/").status_code == 404
    assert client.get("/points/benefits/").status_code == 404


def test_visibility_toggle(client, personas, member_a, rule):
    client.force_login(personas.member)
    client.post("/points/me/visibility/", {"hidden": "1"})
    assert member_a.points_balance.hide_from_rankings is True


def test_benefits_page_books_for_family(client, personas, member_a, household_a, rule):
    services.points_adjust(actor=personas.street_admin, member=member_a, points=5, reason="开户", now=T0)
    room = services.benefit_create(
        actor=personas.secretary_a,
        org=personas.tree.community_a,
        kind="resource",
        name="康乐会客厅",
        resource_kind="room",
        cost_points=1,
    )
    start = timezone.now() + dt.timedelta(days=1)
    slot = services.slot_create(
        actor=personas.secretary_a,
        benefit=room,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=1,
    )
    client.force_login(personas.member)
    page = client.get("/points/benefits/").content.decode()
    assert "康乐会客厅" in page and f"book-{slot.pk}" in page
    client.post(f"/points/slots/{slot.pk}/book/", {"household_member": household_a.pk})
    page = client.get("/points/benefits/").content.decode()
    assert "王小华" in page and 'data-status="booked"' in page
    again = client.post(f"/points/slots/{slot.pk}/book/", {}, follow=True).content.decode()
    assert "已约满" in again
    client.force_login(personas.secretary_b)
    assert client.post(f"/points/slots/{slot.pk}/book/").status_code == 404


@pytest.mark.parametrize("rows", [1, 3])
def test_benefits_page_query_count(client, personas, member_a, rule, rows, django_assert_num_queries):
    start = timezone.now() + dt.timedelta(days=1)
    for i in range(rows):
        b = services.benefit_create(
            actor=personas.secretary_a,
            org=personas.tree.community_a,
            kind="resource",
            name=f"资源{i}",
            resource_kind="equipment",
        )
        services.slot_create(
            actor=personas.secretary_a,
            benefit=b,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            capacity=2,
        )
    client.force_login(personas.member)
    client.get("/points/benefits/")
    with django_assert_num_queries(8):
        page = client.get("/points/benefits/")
    assert page.content.decode().count('data-testid="benefit"') == rows


def test_rankings_page(client, personas, member_a, rule):
    award(member_a, "1", at=timezone.now() - dt.timedelta(hours=1), now=timezone.now())
    client.force_login(personas.secretary_a)
    page = client.get("/points/rankings/", {"unit": "KJ-C01"}).content.decode()
    assert "王建华" in page
    client.force_login(personas.secretary_b)
    assert client.get("/points/rankings/", {"unit": "KJ-C01"}).status_code == 404
    client.force_login(personas.member)
    assert client.get("/points/rankings/").status_code == 403
    client.logout()
    assert client.get("/points/rankings/").status_code == 302


def test_rules_page(client, personas, member_a, rule):
    award(member_a, "1")
    client.force_login(personas.street_admin)
    page = client.get("/points/rules/").content.decode()
    assert 'data-testid="rule-version"' in page and "rule-form" in page
    rows = {f"row{d}": ",".join(["5"] * 5) for d in range(1, 6)}
    past = client.post(
        "/points/rules/",
        {
            "effective_from": "2026-03-01T00:00",
            "band_limits": "60,120,240,480",
            "daily_cap": 10,
            "monthly_cap": 60,
            **rows,
        },
        follow=True,
    )
    assert "会改变已发放的积分" in past.content.decode()
    bad = client.post(
        "/points/rules/",
        {
            "effective_from": "2026-06-01T00:00",
            "band_limits": "60,120,240,480",
            "daily_cap": 10,
            "monthly_cap": 60,
            **rows,
            "row3": "5,5,x",
        },
        follow=True,
    )
    assert "以逗号分隔的整数" in bad.content.decode()
    for field in ("daily_cap", "monthly_cap"):
        not_a_number = client.post(
            "/points/rules/",
            {
                "effective_from": "2026-06-01T00:00",
                "band_limits": "60,120,240,480",
                "daily_cap": 10,
                "monthly_cap": 60,
                **rows,
                field: "十",
            },
            follow=True,
        )
        assert not_a_number.status_code == 200  # it was a 500
        assert ("日上限：" if field == "daily_cap" else "月上限：") in not_a_number.content.decode()
    client.post(
        "/points/rules/",
        {
            "effective_from": "2026-06-01T00:00",
            "band_limits": "60,120,240,480",
            "daily_cap": 10,
            "monthly_cap": 60,
            **rows,
        },
    )
    assert client.get("/points/rules/").content.decode().count('data-testid="rule-version"') == 2
    client.force_login(personas.secretary_a)
    assert "rule-form" not in client.get("/points/rules/").content.decode()
    assert client.post("/points/rules/", {"effective_from": "2026-07-01T00:00"}).status_code == 403
    client.force_login(personas.contractor)
    assert client.get("/points/rules/").status_code == 404
    client.logout()
    assert client.get("/points/rules/").status_code == 302
