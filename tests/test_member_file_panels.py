"""The member file (一人一档) shows the sections the apps above members contribute: service history,
points with the rule behind each entry, and recognition — in one page, without N+1 queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kangle.core.crypto import blind_index
from kangle.members.constants import Channel, Status
from kangle.members.models import Member
from kangle.points import services as points_services

pytestmark = pytest.mark.django_db

ZONE = dt.timezone(dt.timedelta(hours=8))


def _member(personas, phone="13712345678"):
    return Member.objects.create(
        community=personas.tree.community_a,
        org=personas.tree.community_a,
        name="王芳",
        phone=phone,
        phone_hash=blind_index(phone),
        political_status="full",
        channel=Channel.PHONE,
        status=Status.APPROVED,
        registered_at=timezone.now(),
    )


def _award(personas, member, n):
    start = dt.datetime(2026, 3, 1, 9, tzinfo=ZONE)
    points_services.rule_create(
        actor=personas.street_admin, street=personas.tree.street, effective_from=start, now=start
    )
    for i in range(n):
        served = start + dt.timedelta(days=i + 1)
        points_services.award_for_service(
            actor=None,
            member=member,
            source_type="test",
            source_id=f"{member.pk}-{i}",
            difficulty=3,
            duration_minutes=120,
            occurred_at=served,
            evidence={"title": f"便民服务{i}"},
            now=served + dt.timedelta(hours=1),
        )


def test_the_file_shows_points_with_rule_versions_and_service_history(client, personas):
    member = _member(personas)
    _award(personas, member, 2)
    client.force_login(personas.secretary_a)
    page = client.get(f"/members/{member.pk}/").content.decode()
    balance = points_services.balance_of(member)
    assert balance > 0
    assert f'data-testid="member-points">{balance}<' in page
    assert "便民服务0" in page and "v1" in page
    assert 'data-testid="member-service"' in page


def test_the_outsider_gets_404_on_the_file(client, personas):
    member = _member(personas)
    client.force_login(personas.secretary_b)
    assert client.get(f"/members/{member.pk}/").status_code == 404


def test_the_file_page_queries_do_not_grow_with_entries(client, personas):
    member = _member(personas)
    _award(personas, member, 1)
    client.force_login(personas.secretary_a)
    client.get(f"/members/{member.pk}/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(f"/members/{member.pk}/")
    other = _member(personas, phone="13712345679")
    _award_more(personas, other)
    with CaptureQueriesContext(connection) as three:
        client.get(f"/members/{other.pk}/")
    assert len(three) == len(one)


def _award_more(personas, member):
    start = dt.datetime(2026, 4, 1, 9, tzinfo=ZONE)
    for i in range(3):
        served = start + dt.timedelta(days=i + 1)
        points_services.award_for_service(
            actor=None,
            member=member,
            source_type="test",
            source_id=f"more-{member.pk}-{i}",
            difficulty=2,
            duration_minutes=60,
            occurred_at=served,
            evidence={"title": f"平安守护{i}"},
            now=served + dt.timedelta(hours=1),
        )
