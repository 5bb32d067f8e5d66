"""Manual adjustments: a reason always, within the caps, and above the street's limit a second street admin."""

from __future__ import annotations

import pytest

from kangle.core.errors import NotAllowed, UserError
from kangle.core.models import AuditEvent
from kangle.core.roles import Role
from kangle.notify.models import Notification
from kangle.points import services
from kangle.points.models import AdjustmentRequest, AdjustmentStatus, LedgerEntry
from kangle.points.services import adjustments
from personas import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_admin(personas):
    return make_user("street_admin_2", Role.STREET_ADMIN, personas.tree.street)


def test_within_the_limit_the_adjustment_applies_at_once(personas, member_a):
    result = adjustments.points_adjust_request(
        actor=personas.street_admin, member=member_a, points=5, reason="补录"
    )
    assert isinstance(result, LedgerEntry) and services.balance_of(member_a) == 5


def test_above_the_limit_a_second_admin_approves(personas, member_a, second_admin):
    adjustments.adjustment_limit_set(
        actor=personas.street_admin, street=personas.tree.street, approval_above=10
    )
    request = adjustments.points_adjust_request(
        actor=personas.street_admin, member=member_a, points=30, reason="年度表彰补录"
    )
    assert isinstance(request, AdjustmentRequest) and services.balance_of(member_a) == 0
    with pytest.raises(UserError) as same:
        adjustments.adjustment_decide(actor=personas.street_admin, request=request, approve=True)
    assert same.value.code == "same_admin"
    decided = adjustments.adjustment_decide(actor=second_admin, request=request, approve=True)
    assert decided.status == AdjustmentStatus.APPROVED and services.balance_of(member_a) == 30
    assert AuditEvent.objects.filter(verb="ledger.adjust_decide").exists()
    assert Notification.objects.filter(recipient=personas.street_admin, title="积分调整申请已审批").exists()
    with pytest.raises(UserError) as twice:
        adjustments.adjustment_decide(actor=second_admin, request=request, approve=True)
    assert twice.value.status == 409


@pytest.mark.parametrize(
    ("points", "reason", "field"),
    [(5, "", "reason"), (0, "x", "points"), (101, "x", "points"), (-5, "扣减", "points"), (50, "", "reason")],
)
def test_bad_adjustments_are_refused(personas, member_a, points, reason, field):
    with pytest.raises(UserError) as refused:
        adjustments.points_adjust_request(
            actor=personas.street_admin, member=member_a, points=points, reason=reason
        )
    assert refused.value.field == field
    assert not LedgerEntry.objects.exists() and not AdjustmentRequest.objects.exists()


def test_limits_outside_the_range_are_refused(personas):
    for bad in (0, 101):
        with pytest.raises(UserError):
            adjustments.adjustment_limit_set(
                actor=personas.street_admin, street=personas.tree.street, approval_above=bad
            )
    with pytest.raises(NotAllowed):
        adjustments.adjustment_limit_set(
            actor=personas.area_admin, street=personas.tree.area_1, approval_above=5
        )


def test_page_picker_adjust_and_approve(client, personas, member_a, second_admin):
    client.force_login(personas.street_admin)
    page = client.get("/points/adjustments/", {"q": member_a.name})
    assert page.status_code == 200 and b'data-testid="adjust-form"' in page.content
    assert list(client.get("/points/adjustments/", {"q": member_a.phone}).context["matches"]) == [member_a]
    client.post("/points/adjustments/new/", {"member": member_a.pk, "points": 50, "reason": "补录"})
    request = AdjustmentRequest.objects.get()
    client.force_login(second_admin)
    assert client.post(f"/points/adjustments/{request.pk}/decide/", {"approve": "1"}).status_code == 302
    assert services.balance_of(member_a) == 50
    assert (
        client.post("/points/adjustments/limit/", {"street": "KJ", "approval_above": "30"}).status_code == 302
    )
    assert adjustments.approval_above(personas.tree.street) == 30


def test_api(client, api, personas, member_a, second_admin):
    client.force_login(personas.street_admin)
    assert api.post("/adjustments/", {"member": member_a.pk, "points": 3, "reason": "x"}).status_code == 201
    response = api.post("/adjustments/", {"member": member_a.pk, "points": 40, "reason": "x"})
    assert response.status_code == 202 and response.json()["status"] == "pending"
    request_id = response.json()["request"]
    assert api.post(f"/adjustments/requests/{request_id}/decide", {"approve": True}).status_code == 403
    client.force_login(second_admin)
    assert [r["id"] for r in api.get("/adjustments/requests").json()["items"]] == [request_id]
    assert (
        api.post(f"/adjustments/requests/{request_id}/decide", {"approve": True}).json()["status"]
        == "approved"
    )
    assert services.balance_of(member_a) == 43
    response = api.post("/adjustments/", {"member": member_a.pk, "points": 3, "reason": ""})
    assert response.status_code == 400 and response.json()["field"] == "reason"


@pytest.mark.parametrize("who", ["anonymous", "member", "secretary_a", "area_admin", "other_admin"])
def test_wrong_roles_and_outsiders(client, api, personas, member_a, who):
    request = adjustments.points_adjust_request(
        actor=personas.street_admin, member=member_a, points=50, reason="x"
    )
    if who == "other_admin":
        client.force_login(make_user("hn_admin", Role.STREET_ADMIN, personas.tree.other_street))
    elif who != "anonymous":
        client.force_login(getattr(personas, who))
    page = 302 if who == "anonymous" else 404
    assert client.get("/points/adjustments/").status_code == (200 if who == "other_admin" else page)
    assert (
        client.post(
            "/points/adjustments/new/", {"member": member_a.pk, "points": 3, "reason": "x"}
        ).status_code
        == page
    )
    assert client.post(f"/points/adjustments/{request.pk}/decide/", {"approve": "1"}).status_code == page
    expected = 401 if who == "anonymous" else 404
    assert (
        api.post("/adjustments/", {"member": member_a.pk, "points": 3, "reason": "x"}).status_code == expected
    )
    assert api.post(f"/adjustments/requests/{request.pk}/decide", {"approve": True}).status_code == expected
    assert services.balance_of(member_a) == 0
    assert AdjustmentRequest.objects.get(pk=request.pk).status == AdjustmentStatus.PENDING
