"""Pages: happy path, anonymous, outsider (404), wrong role (403), query counts with 1 and 3 rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from kangle.activities import services
from kangle.activities.models import RecordSource, ServiceRecord

from .conftest import T0, make_member

pytestmark = pytest.mark.django_db


def _activities(kit, n):
    return [kit.activity(title=f"活动{i}", starts_at=T0 + dt.timedelta(days=i)) for i in range(n)]


@pytest.mark.parametrize("n", [1, 3])
def test_activity_list_query_count(kit, client, django_assert_max_num_queries, n):
    _activities(kit, n)
    client.force_login(kit.p.secretary_a)
    client.get(reverse("activities:list"))  # warm the session
    with django_assert_max_num_queries(6):
        response = client.get(reverse("activities:list"))
    assert response.content.decode().count("data-activity=") == n


@pytest.mark.parametrize("n", [1, 3])
def test_call_list_query_count(kit, client, django_assert_max_num_queries, n):
    for _ in range(n):
        kit.call()
    client.force_login(kit.p.secretary_a)
    client.get(reverse("activities:calls"))
    with django_assert_max_num_queries(6):
        response = client.get(reverse("activities:calls"))
    assert response.content.decode().count("data-call=") == n


@pytest.mark.parametrize("n", [1, 3])
def test_record_list_query_count(kit, client, django_assert_max_num_queries, n):
    for i in range(n):
        ServiceRecord.objects.create(
            member=kit.member,
            org=kit.p.tree.community_a,
            aspect=kit.aspect,
            source=RecordSource.STAFF,
            title=f"记录{i}",
            started_at=T0,
            minutes=30,
            created_at=T0,
        )
    client.force_login(kit.p.secretary_a)
    client.get(reverse("activities:records"))
    with django_assert_max_num_queries(10):
        response = client.get(reverse("activities:records"))
    assert response.content.decode().count("data-record=") == n


def test_pages_scope_roles_and_anonymous(kit, client):
    activity = kit.activity()
    call = kit.call()
    record = services.record_staff_enter(
        actor=kit.p.secretary_a,
        member=kit.member,
        title="助老",
        aspect=kit.aspect,
        started_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3),
        minutes=60,
    )
    staff_pages = [
        reverse("activities:detail", args=[activity.pk]),
        reverse("activities:screen", args=[activity.pk]),
        reverse("activities:screen-qr", args=[activity.pk]),
        reverse("activities:call-detail", args=[call.pk]),
    ]
    client.force_login(kit.p.secretary_a)
    for url in staff_pages:
        assert client.get(url).status_code == 200, url
    screen = client.get(reverse("activities:screen", args=[activity.pk])).content.decode()
    assert "<svg" in screen and "hx-trigger" in screen and "/m/scan/" in screen
    client.force_login(kit.p.secretary_b)
    for url in staff_pages:
        assert client.get(url).status_code == 404, url
    assert (
        client.post(reverse("activities:record-decide", args=[record.pk]), {"action": "verify"}).status_code
        == 404
    )
    client.force_login(kit.p.member)
    for url in [
        reverse("activities:list"),
        reverse("activities:calls"),
        reverse("activities:records"),
        reverse("activities:figures"),
        reverse("activities:grid"),
    ]:
        assert client.get(url).status_code == 403, url
    client.force_login(kit.p.contractor)
    assert client.get(reverse("activities:phone-list")).status_code == 403
    assert client.get(reverse("activities:party-calls")).status_code == 403
    client.logout()
    for url in staff_pages + [
        reverse("activities:phone-list"),
        reverse("activities:scan", args=[activity.pk, "in"]),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_member_pages(kit, client):
    activity = kit.activity(starts_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
    client.force_login(kit.p.member)
    assert str(activity.pk) in client.get(reverse("activities:phone-list")).content.decode()
    response = client.post(reverse("activities:phone-detail", args=[activity.pk]))
    assert response.status_code == 302
    assert (
        'data-status="confirmed"'
        in client.get(reverse("activities:phone-detail", args=[activity.pk])).content.decode()
    )
    assert client.get(reverse("activities:my-records")).status_code == 200
    outsider_activity = kit.activity(org=kit.p.tree.community_b, actor=kit.p.secretary_b)
    assert client.get(reverse("activities:phone-detail", args=[outsider_activity.pk])).status_code == 404


def test_self_report_page_shows_field_errors(kit, client):
    client.force_login(kit.p.member)
    future = (dt.datetime.now() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("activities:my-records"),
        {"title": "巡逻", "aspect": kit.aspect.pk, "started_at": future, "hours": "2"},
    )
    assert "服务时间不能晚于现在" in response.content.decode()
    past = (dt.datetime.now() - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("activities:my-records"),
        {"title": "巡逻", "aspect": kit.aspect.pk, "started_at": past, "hours": "25"},
    )
    assert "不能超过 24 小时" in response.content.decode()
    assert not ServiceRecord.objects.exists()


def test_figures_page_and_grid_page(kit, client):
    activity = kit.activity(starts_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    services.activity_set_beneficiaries(actor=kit.p.secretary_a, activity=activity, count=33)
    client.force_login(kit.p.street_admin)
    page = client.get(reverse("activities:figures"), {"org": "KJ"}).content.decode()
    assert 'id="fig-beneficiaries">33<' in page and "echarts.min.js" in page
    client.force_login(kit.p.grid_leader)
    grid = client.get(reverse("activities:grid")).content.decode()
    assert kit.member.name in grid
    assert (
        make_member(kit.p.tree.community_b, name="别处党员").name
        not in client.get(reverse("activities:grid")).content.decode()
    )


def test_party_org_signs_up_a_team_on_its_page(kit, client):
    activity = kit.activity(starts_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=2), capacity=1)
    second, _ = kit.member_with_user("周杰", party_org=kit.party_org)
    client.force_login(kit.p.employer)
    listing = client.get(reverse("activities:party-calls")).content.decode()
    assert f'data-activity="{activity.pk}"' in listing
    url = reverse("activities:team-signup", args=[activity.pk])
    assert f'data-member="{second.pk}"' in client.get(url).content.decode()
    client.post(url, {"member": [kit.member.pk, second.pk]})
    statuses = dict(activity.signups.values_list("member_id", "status"))
    assert statuses == {kit.member.pk: "confirmed", second.pk: "waitlisted"}
    outsider = kit.activity(org=kit.p.tree.community_b, actor=kit.p.secretary_b)
    assert client.get(reverse("activities:team-signup", args=[outsider.pk])).status_code == 404
    client.force_login(kit.p.member)
    assert client.get(url).status_code == 403


def test_scanning_twice_on_the_phone_page_says_so_and_keeps_one_attendance(kit, client):
    from kangle.activities import qr
    from kangle.activities.models import Attendance

    activity = kit.activity(starts_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    client.force_login(kit.p.member)
    url = reverse("activities:scan", args=[activity.pk, "in"])
    first = client.post(url, {"t": qr.make_token(activity, "in")}).content.decode()
    assert 'data-testid="scan-result"' in first and 'data-testid="scan-repeat"' not in first
    again = client.post(url, {"t": qr.make_token(activity, "in")}).content.decode()
    assert 'data-testid="scan-repeat"' in again and "已签到，无需重复签到" in again
    assert Attendance.objects.filter(activity=activity).count() == 1
