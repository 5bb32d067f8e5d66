"""Benefits for members and their households: early sign-up, bookable slots with priority, priority passes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from kangle.core.errors import NotAllowed, UserError
from kangle.members import services as member_services
from kangle.members.constants import Relation
from kangle.members.models import HouseholdMember
from kangle.points import selectors, services
from kangle.points.models import Booking, EntryKind, LedgerEntry, Slot

from .conftest import T0, award

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich_member(personas, member_a, rule):
    """member_a with 20 points (street admin adjustment)."""
    services.points_adjust(actor=personas.street_admin, member=member_a, points=20, reason="开户", now=T0)
    return member_a


@pytest.fixture
def room(personas):
    return services.benefit_create(
        actor=personas.secretary_a,
        org=personas.tree.community_a,
        kind="resource",
        name="康乐会客厅 活动室",
        resource_kind="room",
        venue=personas.tree.venue_a,
        min_points=5,
        cost_points=2,
        now=T0,
    )


@pytest.fixture
def slot(personas, room):
    return services.slot_create(
        actor=personas.secretary_a,
        benefit=room,
        starts_at=T0 + dt.timedelta(days=3),
        ends_at=T0 + dt.timedelta(days=3, hours=2),
        capacity=2,
        priority_min_points=10,
        release_at=T0 + dt.timedelta(days=1),
        now=T0,
    )


def test_signup_opens_early_for_member_and_family(personas, rich_member, household_a):
    services.benefit_create(
        actor=personas.street_admin,
        org=personas.tree.street,
        kind="early_signup",
        name="提前报名",
        min_points=10,
        early_hours=48,
        now=T0,
    )
    base = T0 + dt.timedelta(days=5)
    assert services.signup_opens_at(
        member_or_household=rich_member, base_opens_at=base, now=T0
    ) == base - dt.timedelta(hours=48)
    assert services.signup_opens_at(
        member_or_household=household_a, base_opens_at=base, now=T0
    ) == base - dt.timedelta(hours=48)


def test_signup_not_early_below_threshold(personas, member_b, rule):
    services.benefit_create(
        actor=personas.street_admin,
        org=personas.tree.street,
        kind="early_signup",
        name="提前报名",
        min_points=10,
        early_hours=48,
        now=T0,
    )
    base = T0 + dt.timedelta(days=5)
    award(member_b, "b1")  # 3 points
    assert services.signup_opens_at(member_or_household=member_b, base_opens_at=base, now=T0) == base


def test_signup_household_excluded_when_benefit_is_personal(personas, rich_member, household_a):
    services.benefit_create(
        actor=personas.street_admin,
        org=personas.tree.street,
        kind="early_signup",
        name="本人提前报名",
        min_points=1,
        early_hours=24,
        for_household=False,
        now=T0,
    )
    base = T0 + dt.timedelta(days=5)
    assert services.signup_opens_at(member_or_household=household_a, base_opens_at=base, now=T0) == base
    assert services.signup_opens_at(
        member_or_household=rich_member, base_opens_at=base, now=T0
    ) == base - dt.timedelta(hours=24)


def test_book_for_self_and_family_spends_points(personas, rich_member, household_a, slot):
    mine = services.booking_create(actor=personas.member, slot=slot, member=rich_member, now=T0)
    family = services.booking_create(
        actor=personas.member, slot=slot, member=rich_member, household_member=household_a, now=T0
    )
    assert mine.spend.points == -2 and family.beneficiary_name == "王小华"
    assert Slot.objects.get(pk=slot.pk).booked == 2
    assert services.balance_of(rich_member) == 16


def test_double_booking_refused(personas, rich_member, slot):
    services.booking_create(actor=personas.member, slot=slot, member=rich_member, now=T0)
    with pytest.raises(UserError) as caught:
        services.booking_create(actor=personas.member, slot=slot, member=rich_member, now=T0)
    assert caught.value.code == "already_booked" and caught.value.field == "slot"
    assert Booking.objects.count() == 1 and services.balance_of(rich_member) == 18


def test_slot_full(personas, rich_member, household_a, slot):
    other = HouseholdMember.objects.create(member=rich_member, name="王老先生", relation=Relation.PARENT)
    services.booking_create(actor=personas.member, slot=slot, member=rich_member, now=T0)
    services.booking_create(
        actor=personas.member, slot=slot, member=rich_member, household_member=household_a, now=T0
    )
    with pytest.raises(UserError) as caught:
        services.booking_create(
            actor=personas.member, slot=slot, member=rich_member, household_member=other, now=T0
        )
    assert caught.value.code == "slot_full"


def test_slot_held_for_higher_priority_until_release(personas, member_a, rule, slot):
    services.points_adjust(actor=personas.street_admin, member=member_a, points=6, reason="开户", now=T0)
    release = slot.release_at
    with pytest.raises(UserError) as caught:
        services.booking_create(
            actor=personas.member, slot=slot, member=member_a, now=release - dt.timedelta(minutes=1)
        )
    assert caught.value.code == "slot_held" and "10" in caught.value.zh
    booking = services.booking_create(actor=personas.member, slot=slot, member=member_a, now=release)
    assert booking.status == "booked"


def test_spending_more_than_the_balance(personas, member_a, rule, room):
    services.points_adjust(actor=personas.street_admin, member=member_a, points=6, reason="开户", now=T0)
    room.cost_points = 7
    room.save(update_fields=["cost_points"])
    open_slot = services.slot_create(
        actor=personas.secretary_a,
        benefit=room,
        starts_at=T0 + dt.timedelta(days=2),
        ends_at=T0 + dt.timedelta(days=2, hours=1),
        capacity=5,
        now=T0,
    )
    with pytest.raises(UserError) as caught:
        services.booking_create(actor=personas.member, slot=open_slot, member=member_a, now=T0)
    assert caught.value.code == "insufficient_points"
    assert not Booking.objects.exists() and Slot.objects.get(pk=open_slot.pk).booked == 0
    assert services.balance_of(member_a) == 6


def test_below_minimum_and_not_household(personas, member_a, member_b, rule, slot):
    with pytest.raises(UserError) as caught:
        services.booking_create(actor=personas.member, slot=slot, member=member_a, now=T0)
    assert caught.value.code == "below_minimum"
    stranger = HouseholdMember.objects.create(member=member_b, name="外人", relation=Relation.OTHER)
    with pytest.raises(UserError) as caught:
        services.booking_create(
            actor=personas.member, slot=slot, member=member_a, household_member=stranger, now=T0
        )
    assert caught.value.code == "not_household"


def test_cancel_refunds(personas, rich_member, slot):
    booking = services.booking_create(actor=personas.member, slot=slot, member=rich_member, now=T0)
    services.booking_cancel(actor=personas.member, booking=booking, now=T0 + dt.timedelta(hours=1))
    assert services.balance_of(rich_member) == 20 and Slot.objects.get(pk=slot.pk).booked == 0
    refund = LedgerEntry.objects.get(kind=EntryKind.REFUND)
    assert refund.reverses_id == booking.spend_id
    with pytest.raises(UserError):
        services.booking_cancel(actor=personas.member, booking=booking, now=T0 + dt.timedelta(hours=1))


def test_booking_by_outsider_or_other_member(personas, rich_member, slot):
    with pytest.raises(Http404):
        services.booking_create(actor=personas.secretary_b, slot=slot, member=rich_member, now=T0)
    with pytest.raises(Http404):
        services.booking_create(actor=personas.resident, slot=slot, member=rich_member, now=T0)
    desk = services.booking_create(actor=personas.secretary_a, slot=slot, member=rich_member, now=T0)
    assert desk.member_id == rich_member.pk


def test_slot_bad_input(personas, room):
    with pytest.raises(UserError) as caught:
        services.slot_create(
            actor=personas.secretary_a, benefit=room, starts_at=T0, ends_at=T0, capacity=1, now=T0
        )
    assert caught.value.field == "ends_at"
    with pytest.raises(UserError) as caught:
        services.slot_create(
            actor=personas.secretary_a,
            benefit=room,
            starts_at=T0,
            ends_at=T0 + dt.timedelta(hours=1),
            capacity=0,
            now=T0,
        )
    assert caught.value.field == "capacity"
    with pytest.raises(Http404):
        services.slot_create(
            actor=personas.secretary_b,
            benefit=room,
            starts_at=T0,
            ends_at=T0 + dt.timedelta(hours=1),
            capacity=1,
            now=T0,
        )
    with pytest.raises(NotAllowed):
        services.slot_create(
            actor=personas.grid_leader,
            benefit=room,
            starts_at=T0,
            ends_at=T0 + dt.timedelta(hours=1),
            capacity=1,
            now=T0,
        ) if False else services.benefit_create(
            actor=personas.grid_leader,
            org=personas.tree.grid_a,
            kind="resource",
            name="x",
            resource_kind="room",
            now=T0,
        )


def test_priority_pass(personas, rich_member, household_a):
    check = services.benefit_create(
        actor=personas.street_admin,
        org=personas.tree.street,
        kind="priority_pass",
        name="社区卫生中心体检优先",
        min_points=10,
        cost_points=3,
        now=T0,
    )
    issued = services.pass_issue(
        actor=personas.member, benefit=check, member=rich_member, household_member=household_a, now=T0
    )
    assert issued.beneficiary_name == "王小华" and services.balance_of(rich_member) == 17
    with pytest.raises(UserError) as caught:
        services.pass_issue(
            actor=personas.member, benefit=check, member=rich_member, household_member=household_a, now=T0
        )
    assert caught.value.code == "pass_exists"
    with pytest.raises(Http404):
        services.pass_use(actor=personas.secretary_b, code=issued.code, now=T0)
    services.pass_use(actor=personas.secretary_a, code=issued.code.lower(), now=T0 + dt.timedelta(days=1))
    with pytest.raises(UserError) as caught:
        services.pass_use(actor=personas.secretary_a, code=issued.code, now=T0 + dt.timedelta(days=1))
    assert caught.value.code == "pass_used"


def test_priority_pass_expiry_boundary(personas, rich_member):
    check = services.benefit_create(
        actor=personas.street_admin,
        org=personas.tree.street,
        kind="priority_pass",
        name="体检优先",
        pass_valid_days=1,
        now=T0,
    )
    first = services.pass_issue(actor=personas.member, benefit=check, member=rich_member, now=T0)
    second_benefit = services.benefit_create(
        actor=personas.street_admin,
        org=personas.tree.street,
        kind="priority_pass",
        name="办事优先",
        pass_valid_days=1,
        now=T0,
    )
    second = services.pass_issue(actor=personas.member, benefit=second_benefit, member=rich_member, now=T0)
    services.pass_use(actor=personas.street_admin, code=first.code, now=T0 + dt.timedelta(days=1, minutes=-1))
    with pytest.raises(UserError) as caught:
        services.pass_use(actor=personas.street_admin, code=second.code, now=T0 + dt.timedelta(days=1))
    assert caught.value.code == "pass_expired"


def test_benefit_bad_input(personas):
    with pytest.raises(UserError) as caught:
        services.benefit_create(
            actor=personas.street_admin, org=personas.tree.street, kind="early_signup", name="提前", now=T0
        )
    assert caught.value.field == "early_hours"
    with pytest.raises(UserError) as caught:
        services.benefit_create(
            actor=personas.street_admin, org=personas.tree.street, kind="resource", name="设备", now=T0
        )
    assert caught.value.field == "resource_kind"
    with pytest.raises(UserError) as caught:
        services.benefit_create(
            actor=personas.street_admin, org=personas.tree.street, kind="nope", name="x", now=T0
        )
    assert caught.value.field == "kind"


def test_rankings_by_dimension_and_opt_out(personas, member_a, member_b, party_org, rule):
    from .conftest import make_member

    neighbour = make_member(personas.tree.community_a, name="陈静", party_org=party_org)
    award(member_a, "a1", difficulty=5, minutes=600)
    award(neighbour, "n1", difficulty=1, minutes=30)
    award(member_b, "b1")
    start, end = T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=1)
    rows = selectors.ranking(
        actor=personas.secretary_a,
        dimension="community",
        unit_id=personas.tree.community_a.pk,
        start=start,
        end=end,
    )
    assert [(r["member_id"], r["points"], r["rank"]) for r in rows] == [
        (member_a.pk, 5, 1),
        (neighbour.pk, 1, 2),
    ]
    assert rows[0]["name"] == "王**"
    party = selectors.ranking(
        actor=personas.secretary_a, dimension="party_org", unit_id=party_org.pk, start=start, end=end
    )
    assert [r["member_id"] for r in party] == [member_a.pk, neighbour.pk]
    grid = selectors.ranking(
        actor=personas.secretary_a, dimension="grid", unit_id=personas.tree.grid_a.pk, start=start, end=end
    )
    assert [r["member_id"] for r in grid] == [member_a.pk]
    services.ranking_visibility_set(actor=personas.member, member=member_a, hidden=True, now=T0)
    public = selectors.ranking(
        actor=personas.secretary_a,
        dimension="community",
        unit_id=personas.tree.community_a.pk,
        start=start,
        end=end,
    )
    assert [r["member_id"] for r in public] == [neighbour.pk]
    staff = selectors.ranking(
        actor=personas.secretary_a,
        dimension="community",
        unit_id=personas.tree.community_a.pk,
        start=start,
        end=end,
        public=False,
    )
    assert staff[0]["name"] == "王建华"
    # The period boundary: an award at `end` is outside.
    assert (
        selectors.ranking(
            actor=personas.secretary_a,
            dimension="community",
            unit_id=personas.tree.community_a.pk,
            start=T0,
            end=T0,
            public=False,
        )
        == []
    )
    with pytest.raises(Http404):
        services.ranking_visibility_set(actor=personas.secretary_a, member=member_a, hidden=False)


# Saving a member file keeps its household rows, so bookings made for a household member survive.
def test_editing_a_file_whose_household_member_has_a_booking(personas, rich_member, household_a, slot):
    booking = services.booking_create(
        actor=personas.member, slot=slot, member=rich_member, household_member=household_a, now=T0
    )
    member_services.member_update(
        actor=personas.secretary_a, member=rich_member, data={"household": "王小华(子女)；王芳(配偶)"}
    )
    rows = list(HouseholdMember.objects.filter(member=rich_member).order_by("id"))
    assert [row.name for row in rows] == ["王小华", "王芳"] and rows[0].pk == household_a.pk
    booking.refresh_from_db()
    assert booking.household_member_id == household_a.pk
    # Removing the booked person is refused with a message naming them (it was a 500 before).
    with pytest.raises(UserError) as error:
        member_services.member_update(
            actor=personas.secretary_a, member=rich_member, data={"household": "王芳(配偶)"}
        )
    assert error.value.field == "household" and "王小华" in error.value.zh
    assert HouseholdMember.objects.filter(pk=household_a.pk).exists()
