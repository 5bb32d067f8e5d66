"""A post takes claims through its last day (the weekly end or the last session), Asia/Shanghai time:
the minute before midnight, at midnight and the minute after."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kangle.core.errors import UserError
from kangle.posts import matching, services

from .conftest import make_member, make_post

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (dt.datetime(2026, 6, 30, 23, 59, tzinfo=SHANGHAI), True),
        (dt.datetime(2026, 7, 1, 0, 0, tzinfo=SHANGHAI), False),
        (dt.datetime(2026, 7, 1, 0, 1, tzinfo=SHANGHAI), False),
    ],
)
def test_weekly_post_takes_claims_through_its_end_date(personas, kj_member, moment, open_):
    post = make_post(
        personas.secretary_a, personas.tree.community_a, starts_on="2026-01-01", ends_on="2026-06-30"
    )
    with time_machine.travel(moment, tick=False):
        post.refresh_from_db()
        assert post.is_claimable is open_
        assert bool(matching.posts_for_member(kj_member)) is open_
        assert bool(matching.members_for_post(post)) is open_
        if open_:
            services.claim_create(actor=personas.member, post=post)
        else:
            with pytest.raises(UserError) as err:
                services.claim_create(actor=personas.member, post=post)
            assert err.value.code == "post_ended"


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (dt.datetime(2026, 12, 5, 23, 59, tzinfo=SHANGHAI), True),
        (dt.datetime(2026, 12, 6, 0, 0, tzinfo=SHANGHAI), False),
        (dt.datetime(2026, 12, 6, 0, 1, tzinfo=SHANGHAI), False),
    ],
)
def test_session_post_takes_claims_through_the_day_of_its_last_session(personas, moment, open_):
    t = personas.tree
    make_member(t.community_a, user=personas.member, slots=["sat_am"])
    post = make_post(
        personas.secretary_a,
        t.community_a,
        weekly_slots=[],
        sessions=["2026-11-28 09:00-11:00", "2026-12-05 09:00-11:00"],
    )
    assert str(post.last_day) == "2026-12-05"
    with time_machine.travel(moment, tick=False):
        if open_:
            assert services.claim_create(actor=personas.member, post=post).pk
        else:
            with pytest.raises(UserError):
                services.claim_create(actor=personas.member, post=post)


def test_open_ended_weekly_post_never_ends(personas, kj_member):
    post = make_post(
        personas.secretary_a, personas.tree.community_a, ends_on="", sessions=["2026-01-03 09:00-11:00"]
    )
    assert post.last_day is None
    with time_machine.travel(dt.datetime(2030, 1, 1, tzinfo=SHANGHAI), tick=False):
        assert services.claim_create(actor=personas.member, post=post).pk
