"""/api/v1/points: happy paths, anonymous (401), outsider (404) and wrong role (403)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kangle.points import services
from kangle.points.models import LedgerEntry

from .conftest import T0, award

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(personas, member_a, rule):
    award(member_a, "1", difficulty=5, minutes=600, evidence={"title": "爱心益剪", "beneficiaries": 30})
    return member_a


def test_rules_list_create_patch(client, api, personas, rule):
    client.force_login(personas.street_admin)
    listed = api.get("/points/rules", street="KJ").json()["items"]
    assert [r["version"] for r in listed] == [1] and listed[0]["table"][4] == [3, 3, 4, 4, 5]
    created = api.post(
        "/points/rules",
        {"street": "KJ", "effective_from": "2026-04-01T00:00:00+08:00", "daily_cap": 8, "monthly_cap": 40},
    )
    assert created.status_code == 201 and created.json()["version"] == 2
    patched = api.patch(f"/points/rules/{created.json()['id']}", {"daily_cap": 6})
    assert patched.status_code == 200 and patched.json()["daily_cap"] == 6


def test_rule_api_bad_input_and_roles(client, api, personas, ledger, rule):
    client.force_login(personas.street_admin)
    used = api.patch(f"/points/rules/{rule.pk}", {"daily_cap": 3})
    assert used.status_code == 400 and used.json()["code"] == "rule_in_use" and used.json()["message_en"]
    past = api.post("/points/rules", {"street": "KJ", "effective_from": "2026-03-01T00:00:00+08:00"})
    assert past.status_code == 400 and past.json()["code"] == "rule_changes_past_awards"
    bad = api.post(
        "/points/rules",
        {"street": "KJ", "effective_from": "2026-05-01T00:00:00+08:00", "table": [[9, 9, 9, 9, 9]] * 5},
    )
    assert bad.status_code == 400 and bad.json()["field"] == "table"
    client.force_login(personas.secretary_a)
    assert (
        api.post("/points/rules", {"street": "KJ", "effective_from": "2026-05-01T00:00:00+08:00"}).status_code
        == 404
    )
    assert api.patch(f"/points/rules/{rule.pk}", {"daily_cap": 3}).status_code == 404
    client.force_login(personas.contractor)
    assert api.get("/points/rules", street="KJ").status_code == 404


def test_anonymous_is_401(api, personas, rule):
    for path in ("/points/me", "/points/rules?street=KJ", "/points/benefits", "/points/bookings"):
        assert api.get(path).status_code == 401
    assert api.post("/points/bookings", {"slot": 1}).status_code == 401


def test_my_ledger_shows_rule_per_entry(client, api, personas, ledger):
    client.force_login(personas.member)
    body = api.get("/points/me").json()
    assert body["balance"] == 5
    assert (body["entries_count"], body["entries_count_capped"], body["entries_more"]) == (1, False, False)
    entry = body["entries"][0]
    assert (entry["kind"], entry["rule_version"], entry["difficulty"], entry["duration_minutes"]) == (
        "award",
        1,
        5,
        600,
    )
    assert entry["evidence"]["title"] == "爱心益剪"
    hidden = api.post("/points/me/ranking-visibility", {"hidden": True}).json()
    assert hidden["hide_from_rankings"] is True


def test_member_ledger_scoped(client, api, personas, ledger, member_b):
    client.force_login(personas.secretary_a)
    assert api.get(f"/points/members/{ledger.pk}/ledger").json()["balance"] == 5
    client.force_login(personas.secretary_b)
    assert api.get(f"/points/members/{ledger.pk}/ledger").status_code == 404
    client.force_login(personas.member)
    assert api.get(f"/points/members/{member_b.pk}/ledger").status_code == 404


def test_adjustment_api(client, api, personas, ledger):
    client.force_login(personas.street_admin)
    made = api.post(f"/points/members/{ledger.pk}/adjustments", {"points": 3, "reason": "补录"})
    assert made.status_code == 201 and made.json()["points"] == 3
    over = api.post(f"/points/members/{ledger.pk}/adjustments", {"points": -50, "reason": "扣"})
    assert over.status_code == 400 and over.json()["code"] == "insufficient_points"
    client.force_login(personas.secretary_a)
    assert (
        api.post(f"/points/members/{ledger.pk}/adjustments", {"points": 3, "reason": "x"}).status_code == 403
    )
    client.force_login(personas.secretary_b)
    assert (
        api.post(f"/points/members/{ledger.pk}/adjustments", {"points": 3, "reason": "x"}).status_code == 404
    )


def test_benefit_slot_booking_flow(client, api, personas, ledger, household_a):
    client.force_login(personas.secretary_a)
    benefit = api.post(
        "/points/benefits",
        {
            "org": "KJ-C01",
            "kind": "resource",
            "name": "会客厅活动室",
            "resource_kind": "room",
            "min_points": 1,
            "cost_points": 2,
        },
    )
    assert benefit.status_code == 201
    bid = benefit.json()["id"]
    start = timezone.now() + dt.timedelta(days=2)
    slot = api.post(
        f"/points/benefits/{bid}/slots",
        {
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
            "capacity": 1,
        },
    )
    assert slot.status_code == 201
    client.force_login(personas.secretary_b)
    assert (
        api.post(
            f"/points/benefits/{bid}/slots",
            {
                "starts_at": start.isoformat(),
                "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
                "capacity": 1,
            },
        ).status_code
        == 404
    )
    assert api.get(f"/points/benefits/{bid}/slots").status_code == 404
    client.force_login(personas.member)
    assert [b["id"] for b in api.get("/points/benefits").json()["items"]] == [bid]
    assert len(api.get(f"/points/benefits/{bid}/slots").json()["items"]) == 1
    booked = api.post("/points/bookings", {"slot": slot.json()["id"], "household_member": household_a.pk})
    assert (
        booked.status_code == 201
        and booked.json()["for_name"] == "王小华"
        and booked.json()["points_spent"] == 2
    )
    full = api.post("/points/bookings", {"slot": slot.json()["id"]})
    assert full.status_code == 400 and full.json()["code"] == "slot_full"
    again = api.post("/points/bookings", {"slot": slot.json()["id"], "household_member": household_a.pk})
    assert again.json()["code"] == "already_booked"
    assert len(api.get("/points/bookings").json()["items"]) == 1
    cancelled = api.post(f"/points/bookings/{booked.json()['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    client.force_login(personas.secretary_b)
    assert api.post(f"/points/bookings/{booked.json()['id']}/cancel").status_code == 404


def test_passes_api(client, api, personas, ledger):
    benefit = services.benefit_create(
        actor=personas.street_admin,
        org=personas.tree.street,
        kind="priority_pass",
        name="体检优先",
        min_points=1,
    )
    client.force_login(personas.member)
    issued = api.post("/points/passes", {"benefit": benefit.pk})
    assert issued.status_code == 201
    client.force_login(personas.secretary_b)
    assert api.post("/points/passes/use", {"code": issued.json()["code"]}).status_code == 404
    client.force_login(personas.secretary_a)
    assert api.post("/points/passes/use", {"code": issued.json()["code"]}).json()["used_at"]


def test_rankings_api(client, api, personas, ledger, party_org):
    today = timezone.localdate(T0).isoformat()
    client.force_login(personas.secretary_a)
    rows = api.get("/points/rankings", dimension="community", unit="KJ-C01", start=today, end=today).json()
    assert rows == [{"rank": 1, "member_id": ledger.pk, "name": "王建华", "points": 5}]
    client.force_login(personas.member)
    rows = api.get("/points/rankings", dimension="grid", unit="KJ-C01-E1-G1", start=today, end=today).json()
    assert rows[0]["name"] == "王**"
    assert api.get("/points/rankings", dimension="community", unit="KJ-C08").status_code == 404
    client.force_login(personas.employer)
    assert (
        api.get(
            "/points/rankings", dimension="party_org", unit=str(party_org.pk), start=today, end=today
        ).json()[0]["points"]
        == 5
    )
    client.force_login(personas.secretary_b)
    assert api.get("/points/rankings", dimension="community", unit="KJ-C01").status_code == 404
    bad = api.get("/points/rankings", dimension="planet", unit="KJ-C01")
    assert bad.status_code == 400 and bad.json()["field"] == "dimension"
    assert (
        api.get(
            "/points/rankings", dimension="community", unit="KJ-C08", start=today, end="2020-01-01"
        ).json()["field"]
        == "end"
    )


def test_ledger_has_no_write_endpoint_for_entries(client, api, personas, ledger):
    client.force_login(personas.superuser)
    entry = LedgerEntry.objects.first()
    assert api.patch(f"/points/entries/{entry.pk}", {"points": 1}).status_code in (404, 405)


def test_the_ledger_says_when_it_shows_only_the_newest_entries(client, api, personas, ledger, monkeypatch):
    from kangle.points import api as points_api

    award(ledger, "2", at=T0 + dt.timedelta(days=1))
    award(ledger, "3", at=T0 + dt.timedelta(days=2))
    monkeypatch.setattr(points_api, "LEDGER_PAGE", 2)
    client.force_login(personas.member)
    body = api.get("/points/me").json()
    assert len(body["entries"]) == 2 and body["entries_more"] is True and body["entries_count"] == 3


def test_a_page_of_rules_says_there_are_more(client, api, personas, rule):
    services.rule_create(
        actor=personas.street_admin,
        street=personas.tree.street,
        effective_from=T0 + dt.timedelta(days=30),
        now=T0,
    )
    client.force_login(personas.street_admin)
    first = api.get("/points/rules", street="KJ", limit=1).json()
    assert [r["version"] for r in first["items"]] == [2] and first["count"] == 2 and first["next"]
    second = api.get("/points/rules", street="KJ", limit=1, after=first["next"]).json()
    assert [r["version"] for r in second["items"]] == [1]
    last = api.get("/points/rules", street="KJ", limit=1, after=second["next"]).json()
    assert last["items"] == [] and last["next"] is None
