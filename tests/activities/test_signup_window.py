"""Early sign-up: before sign-up opens for everyone, members whose points earn the street's early-sign-up
benefit may already sign up; others are told when they can."""

from __future__ import annotations

import datetime as dt

import pytest

from kangle.activities import services
from kangle.core.errors import UserError
from kangle.points import services as points_services

from .conftest import T0

pytestmark = pytest.mark.django_db

OPENS = T0 - dt.timedelta(days=3)  # sign-up opens for everyone three days before the activity


@pytest.fixture
def early_benefit(kit):
    return points_services.benefit_create(
        actor=kit.p.street_admin,
        org=kit.p.tree.street,
        kind="early_signup",
        name="积分优先报名",
        min_points=3,
        early_hours=48,
        for_household=True,
        now=T0 - dt.timedelta(days=30),
    )


def _points(kit, member, points_wanted_at_least: int):
    """A verified long, hard service gives the member enough points for the benefit."""
    served = T0 - dt.timedelta(days=20)
    entry = points_services.award_for_service(
        actor=None,
        member=member,
        source_type="test",
        source_id=f"service-{member.pk}",
        difficulty=5,
        duration_minutes=300,
        occurred_at=served,
        evidence={"title": "测试服务"},
        now=served + dt.timedelta(hours=1),
    )
    assert entry.points >= points_wanted_at_least


def _activity(kit, *, signup_opens_at=OPENS):
    return services.activity_create(
        actor=kit.p.secretary_a,
        org=kit.p.tree.community_a,
        aspect=kit.aspect,
        title="爱心益剪",
        starts_at=T0,
        ends_at=T0 + dt.timedelta(hours=2),
        capacity=10,
        signup_opens_at=signup_opens_at,
        now=T0 - dt.timedelta(days=10),
    )


def test_a_member_with_enough_points_signs_up_inside_the_early_window(kit, early_benefit):
    _points(kit, kit.member, 3)
    activity = _activity(kit)
    signup = services.signup_create(actor=kit.p.member, activity=activity, now=OPENS - dt.timedelta(hours=47))
    assert signup.status == "confirmed"


def test_without_points_the_window_is_closed_until_it_opens_for_everyone(kit, early_benefit):
    activity = _activity(kit)
    with pytest.raises(UserError) as refused:
        services.signup_create(actor=kit.p.member, activity=activity, now=OPENS - dt.timedelta(minutes=1))
    assert refused.value.code == "signup_not_open" and refused.value.field == "activity"
    assert not activity.signups.exists()
    # At the opening minute everyone may sign up.
    assert services.signup_create(actor=kit.p.member, activity=activity, now=OPENS).status == "confirmed"


def test_even_with_points_the_window_opens_no_earlier_than_the_benefit_says(kit, early_benefit):
    _points(kit, kit.member, 3)
    activity = _activity(kit)
    with pytest.raises(UserError):
        services.signup_create(
            actor=kit.p.member, activity=activity, now=OPENS - dt.timedelta(hours=48, minutes=1)
        )
    at_the_minute = OPENS - dt.timedelta(hours=48)
    assert (
        services.signup_create(actor=kit.p.member, activity=activity, now=at_the_minute).status == "confirmed"
    )


def test_sign_up_must_open_before_the_activity_starts(kit):
    with pytest.raises(UserError) as refused:
        _activity(kit, signup_opens_at=T0 + dt.timedelta(minutes=1))
    assert refused.value.field == "signup_opens_at"
