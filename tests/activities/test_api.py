"""API: happy paths, anonymous (401), outsider secretary_b (404), wrong role (403), bad input messages."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kangle.activities import qr, services
from kangle.activities.models import ServiceRecord

from .conftest import T0, make_member

pytestmark = pytest.mark.django_db
BEFORE = T0 - dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _long_sessions(settings):
    # The tests travel in time (time-machine) after logging in; keep the session valid across the trip.
    settings.SESSION_COOKIE_AGE = 3650 * 86400


def test_activity_create_list_and_scope(kit, client, api):
    client.force_login(kit.p.secretary_a)
    body = {
        "org": "KJ-C01",
        "aspect": "convenience",
        "title": "爱心益剪",
        "starts_at": T0.isoformat(),
        "ends_at": (T0 + dt.timedelta(hours=2)).isoformat(),
        "capacity": 20,
        "theme": "义务理发",
    }
    with time_machine.travel(BEFORE, tick=False):
        created = api.post("/activities/", body)
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert api.get("/activities/").json()["count"] == 1
    bad = api.post("/activities/", {**body, "ends_at": T0.isoformat()})
    assert bad.status_code == 400 and bad.json()["field"] == "ends_at" and bad.json()["message_en"]
    client.force_login(kit.p.secretary_b)
    assert api.get(f"/activities/{pk}").status_code == 404
    assert api.get("/activities/").json()["count"] == 0
    assert api.post("/activities/", body).status_code == 404
    assert api.post(f"/activities/{pk}/beneficiaries", {"count": 5}).status_code == 404
    assert api.get(f"/activities/{pk}/qr-token").status_code == 404
    client.logout()
    assert api.get("/activities/").status_code == 401
    assert api.post(f"/activities/{pk}/check-in", {"token": "x"}).status_code == 401
    client.force_login(kit.p.contractor)
    assert api.get("/activities/").status_code == 403


def test_signup_check_in_out_over_the_api(kit, client, api):
    activity = kit.activity(capacity=1)
    client.force_login(kit.p.member)
    with time_machine.travel(BEFORE, tick=False):
        signed = api.post(f"/activities/{activity.pk}/signups")
        assert signed.status_code == 201 and signed.json()["status"] == "confirmed"
        again = api.post(f"/activities/{activity.pk}/signups")
        assert again.status_code == 400 and again.json()["code"] == "already_signed_up"
        _, other = kit.member_with_user("王芳")
        client.force_login(other)
        assert api.post(f"/activities/{activity.pk}/signups").json()["status"] == "waitlisted"
        client.force_login(kit.p.member)
        cancelled = api.post(f"/activities/signups/{signed.json()['id']}/cancel")
        assert cancelled.json()["status"] == "cancelled"
    client.force_login(kit.p.secretary_a)
    with time_machine.travel(T0, tick=False):
        token = api.get(f"/activities/{activity.pk}/qr-token").json()["token"]
        client.force_login(kit.p.member)
        first = api.post(f"/activities/{activity.pk}/check-in", {"token": token})
        assert first.status_code == 201 and first.json()["method"] == "qr"
        second = api.post(f"/activities/{activity.pk}/check-in", {"token": token})
        assert second.status_code == 200 and second.json()["id"] == first.json()["id"]  # a repeat scan
        forged = api.post(f"/activities/{activity.pk}/check-out", {"token": token})  # an "in" token
        assert forged.status_code == 400 and forged.json()["code"] == "qr_invalid"
    with time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False):
        stale = api.post(f"/activities/{activity.pk}/check-out", {"token": token})
        assert stale.json()["code"] in ("qr_invalid", "qr_expired")
    with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False):
        out_token = qr.make_token(activity, "out")
        done = api.post(f"/activities/{activity.pk}/check-out", {"token": out_token})
        assert done.status_code == 200 and done.json()["credited"] is True
    client.force_login(kit.p.secretary_a)
    assert api.get(f"/activities/{activity.pk}/attendances").json()["count"] == 1
    assert api.get("/activities/records", status="pending").json()["count"] == 1


def test_expired_token_message_over_the_api(kit, client, api):
    activity = kit.activity()
    token = qr.make_token(activity, "in", now=T0 - dt.timedelta(minutes=3))
    client.force_login(kit.p.member)
    with time_machine.travel(T0, tick=False):
        response = api.post(f"/activities/{activity.pk}/check-in", {"token": token})
    assert response.status_code == 400
    assert response.json() == {
        "code": "qr_expired",
        "message": "二维码已过期，请重新扫描现场屏幕上的二维码",
        "message_en": "The code has expired: scan the code on the screen again",
        "field": "token",
    }


def test_check_out_without_check_in_over_the_api(kit, client, api):
    activity = kit.activity()
    client.force_login(kit.p.member)
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        response = api.post(f"/activities/{activity.pk}/check-out", {"token": qr.make_token(activity, "out")})
    assert response.status_code == 409 and response.json()["code"] == "not_checked_in"


def test_staff_check_in_scope(kit, client, api):
    activity = kit.activity()
    elder = make_member(kit.p.tree.community_a, name="老张")
    with time_machine.travel(T0, tick=False):
        client.force_login(kit.p.secretary_b)
        assert api.post(f"/activities/{activity.pk}/staff-check-in", {"member": elder.pk}).status_code == 404
        client.force_login(kit.p.secretary_a)
        assert api.post(f"/activities/{activity.pk}/staff-check-in", {"member": elder.pk}).status_code == 201
        client.force_login(kit.p.member)
        assert api.post(f"/activities/{activity.pk}/staff-check-in", {"member": elder.pk}).status_code == 403


def test_team_signup_over_the_api(kit, client, api):
    activity = kit.activity()
    client.force_login(kit.p.employer)
    with time_machine.travel(BEFORE, tick=False):
        response = api.post(f"/activities/{activity.pk}/team-signups", {"member_ids": [kit.member.pk]})
    assert response.status_code == 201 and response.json()[0]["party_org"] == kit.party_org.name
    client.force_login(kit.p.secretary_a)
    assert (
        api.post(f"/activities/{activity.pk}/team-signups", {"member_ids": [kit.member.pk]}).status_code
        == 403
    )


def test_calls_over_the_api(kit, client, api):
    client.force_login(kit.p.secretary_a)
    body = {
        "org": "KJ-C01",
        "title": "防汛值守",
        "place": "康乐1小区",
        "starts_at": T0.isoformat(),
        "ends_at": (T0 + dt.timedelta(hours=3)).isoformat(),
        "people_needed": 2,
        "deadline": T0.isoformat(),
        "grids": ["KJ-C01-E1-G1"],
    }
    with time_machine.travel(BEFORE, tick=False):
        created = api.post("/activities/calls", body)
        assert created.status_code == 201, created.content
        pk = created.json()["id"]
        assert api.post("/activities/calls", {**body, "grids": ["NOPE"]}).json()["field"] == "grids"
        client.force_login(kit.p.member)
        assert api.get("/activities/calls").json()["count"] == 1
        answered = api.post(f"/activities/calls/{pk}/responses")
        assert answered.status_code == 201 and answered.json()["channel"] == "individual"
        client.force_login(kit.p.employer)
        bad = api.post(f"/activities/calls/{pk}/collective", {"names": ["李明", "无此人"]})
        assert bad.status_code == 400
        assert bad.json()["rows"] == [
            {
                "row": 2,
                "name": "无此人",
                "message": "不是本单位已报到的党员",
                "message_en": "not an approved member of this organisation",
            }
        ]
        client.force_login(kit.p.grid_leader)
        grid_view = api.get(f"/activities/calls/{pk}")
        assert grid_view.status_code == 200 and grid_view.json()["responded"] == 1
        client.force_login(kit.p.secretary_b)
        assert api.get(f"/activities/calls/{pk}").status_code == 404
        assert api.post(f"/activities/calls/{pk}/close", {"outcome": "x"}).status_code == 404
        client.force_login(kit.p.secretary_a)
        closed = api.post(f"/activities/calls/{pk}/close", {"outcome": "两人到岗，已完成"})
        assert closed.json()["status"] == "closed"
        client.force_login(kit.p.member)
        late = api.post(f"/activities/calls/{pk}/responses")
        assert late.status_code == 409 and late.json()["code"] == "call_closed"


def _jpeg():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, "JPEG")
    return SimpleUploadedFile("p.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_records_over_the_api(kit, client, api):
    client.force_login(kit.p.member)
    photo = _jpeg()
    with time_machine.travel(T0, tick=False):
        start = (T0 - dt.timedelta(hours=5)).isoformat()
        made = client.post(
            "/api/v1/activities/records/self-report",
            {"title": "助老陪诊", "aspect": "elderly", "started_at": start, "minutes": 120, "photo": photo},
        )
        assert made.status_code == 201, made.content
        too_long = client.post(
            "/api/v1/activities/records/self-report",
            {
                "title": "x",
                "aspect": "elderly",
                "started_at": start,
                "minutes": 1500,
                "photo": _jpeg(),
            },
        )
        assert too_long.status_code == 400 and too_long.json()["field"] == "minutes"
        future = client.post(
            "/api/v1/activities/records/self-report",
            {
                "title": "x",
                "aspect": "elderly",
                "started_at": (T0 + dt.timedelta(days=1)).isoformat(),
                "minutes": 30,
                "photo": _jpeg(),
            },
        )
        assert future.status_code == 400 and future.json()["code"] == "future_date"
    # Decided after the service it records (the ledger refuses services dated in the future).
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        pk = made.json()["id"]
        assert api.get("/activities/records").json()["count"] == 1
        assert api.post(f"/activities/records/{pk}/verify").status_code == 403
        client.force_login(kit.p.secretary_b)
        assert api.post(f"/activities/records/{pk}/verify").status_code == 404
        client.force_login(kit.p.secretary_a)
        assert api.post(f"/activities/records/{pk}/reject", {"reason": ""}).json()["field"] == "reason"
        verified = api.post(f"/activities/records/{pk}/verify")
        assert verified.json().get("status") == "verified", verified.json()
        entered = api.post(
            "/activities/records",
            {
                "member": kit.member.pk,
                "title": "巡逻",
                "aspect": "safety",
                "started_at": (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat(),
                "minutes": 60,
            },
        )
        assert entered.status_code == 201
        client.force_login(kit.p.secretary_b)
        assert (
            api.post(
                "/activities/records",
                {
                    "member": kit.member.pk,
                    "title": "巡逻",
                    "aspect": "safety",
                    "started_at": T0.isoformat(),
                    "minutes": 60,
                },
            ).status_code
            == 404
        )
        assert ServiceRecord.objects.count() == 2


def test_figures_over_the_api(kit, client, api):
    activity = kit.activity()
    services.activity_set_beneficiaries(actor=kit.p.secretary_a, activity=activity, count=40, now=T0)
    services.attendance_check_in(
        actor=kit.p.member, activity=activity, token=qr.make_token(activity, "in", now=T0), now=T0
    )
    client.force_login(kit.p.street_admin)
    data = api.get("/activities/figures", org="KJ", start="2026-12-01", end="2026-12-31").json()
    assert (data["activities"], data["participants"], data["beneficiaries"]) == (1, 1, 40)
    assert data["by_aspect"][0]["aspect"] == "convenience"
    empty = api.get("/activities/figures", org="KJ", start="2026-11-01", end="2026-11-30").json()
    assert empty["activities"] == 0
    client.force_login(kit.p.secretary_b)
    assert (
        api.get("/activities/figures", org="KJ-C01", start="2026-12-01", end="2026-12-31").status_code == 404
    )
    bad = api.get("/activities/figures", org="KJ-C08", start="2026-12-31", end="2026-12-01")
    assert bad.status_code == 400 and bad.json()["field"] == "end"
