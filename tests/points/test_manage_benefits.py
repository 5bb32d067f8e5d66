"""Benefits from the workbench: create, bookable slots (no overlap, not in the past), bookings, pass redemption."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kangle.core.errors import UserError
from kangle.core.roles import Role
from kangle.points import services
from kangle.points.models import Benefit, PriorityPass, Slot
from personas import make_user

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


@pytest.fixture
def room(personas):
    return services.benefit_create(
        actor=personas.secretary_a,
        org=personas.tree.community_a,
        kind="resource",
        name="活动室",
        resource_kind="room",
    )


def test_slots_in_the_past_or_overlapping_are_refused(personas, room):
    start = timezone.now() + 24 * H
    services.slot_create(
        actor=personas.secretary_a, benefit=room, starts_at=start, ends_at=start + 2 * H, capacity=5
    )
    with pytest.raises(UserError) as overlap:
        services.slot_create(
            actor=personas.secretary_a, benefit=room, starts_at=start + H, ends_at=start + 3 * H, capacity=5
        )
    assert overlap.value.code == "slot_overlap" and overlap.value.field == "starts_at"
    with pytest.raises(UserError) as past:
        services.slot_create(
            actor=personas.secretary_a,
            benefit=room,
            starts_at=start - 48 * H,
            ends_at=start - 47 * H,
            capacity=5,
        )
    assert past.value.code == "slot_in_past"
    # Back to back is not an overlap.
    services.slot_create(
        actor=personas.secretary_a, benefit=room, starts_at=start + 2 * H, ends_at=start + 3 * H, capacity=5
    )
    assert Slot.objects.filter(benefit=room).count() == 2


def test_pages_create_benefit_add_slot_and_redeem_a_pass(client, personas, member_a):
    client.force_login(personas.secretary_a)
    response = client.post(
        "/points/manage/benefits/",
        {
            "name": "理发优先",
            "kind": "priority_pass",
            "org": "KJ-C01",
            "resource_kind": "",
            "min_points": 0,
            "cost_points": 0,
            "early_hours": 0,
            "pass_valid_days": 30,
            "description": "",
        },
    )
    assert response.status_code == 302, response.content
    haircut = Benefit.objects.get(name="理发优先")
    response = client.post(
        "/points/manage/benefits/",
        {
            "name": "会议室",
            "kind": "resource",
            "org": "KJ-C01",
            "resource_kind": "room",
            "min_points": 0,
            "cost_points": 0,
            "early_hours": 0,
            "pass_valid_days": 30,
            "description": "",
        },
    )
    room = Benefit.objects.get(name="会议室")
    start = timezone.localtime(timezone.now() + 24 * H).replace(second=0, microsecond=0, tzinfo=None)
    fields = {
        "starts_at": start.isoformat(),
        "ends_at": (start + H).isoformat(),
        "capacity": 3,
        "priority_min_points": 0,
    }
    assert client.post(f"/points/manage/benefits/{room.pk}/", fields).status_code == 302
    response = client.post(f"/points/manage/benefits/{room.pk}/", fields)
    assert response.status_code == 400 and "starts_at" in response.context["form"].errors
    assert client.get(f"/points/manage/benefits/{room.pk}/").status_code == 200
    issued = services.pass_issue(actor=personas.member, benefit=haircut, member=member_a)
    client.force_login(personas.member)
    qr = client.get(f"/points/passes/{issued.pk}/qr.svg")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml"
    client.force_login(personas.secretary_a)
    assert client.get("/points/manage/passes/redeem/", {"code": issued.code}).status_code == 200
    response = client.post("/points/manage/passes/redeem/", {"code": issued.code})
    assert response.status_code == 200 and b'data-testid="pass-used"' in response.content
    assert PriorityPass.objects.get(pk=issued.pk).used_at is not None
    response = client.post("/points/manage/passes/redeem/", {"code": issued.code})
    assert response.status_code == 400  # used once only


@pytest.mark.parametrize("who", ["anonymous", "member", "grid_leader", "secretary_b", "other_admin"])
def test_wrong_roles_and_outsiders(client, personas, room, member_a, who):
    haircut = services.benefit_create(
        actor=personas.secretary_a, org=personas.tree.community_a, kind="priority_pass", name="理发"
    )
    issued = services.pass_issue(actor=personas.member, benefit=haircut, member=member_a)
    if who == "other_admin":
        client.force_login(make_user("hn_admin", Role.STREET_ADMIN, personas.tree.other_street))
    elif who != "anonymous":
        client.force_login(getattr(personas, who))
    allowed_lists = who in ("secretary_b", "other_admin")
    expected = 302 if who == "anonymous" else 404
    assert client.get(f"/points/manage/benefits/{room.pk}/").status_code == expected
    list_page = client.get("/points/manage/benefits/")
    assert list_page.status_code == (200 if allowed_lists else expected)
    if allowed_lists:
        assert room not in list_page.context["benefits"]
    response = client.post("/points/manage/passes/redeem/", {"code": issued.code})
    assert response.status_code == expected
    assert PriorityPass.objects.get(pk=issued.pk).used_at is None
    if who not in ("anonymous", "member"):
        assert client.get(f"/points/passes/{issued.pk}/qr.svg").status_code == 404
