"""Posts and claims: the rules of claiming and every bad input the issue lists."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.http import Http404

from kangle.core.errors import NotAllowed, UserError
from kangle.core.models import AuditEvent
from kangle.members.constants import Status
from kangle.notify.models import Notification
from kangle.posts import services
from kangle.posts.models import Claim, ClaimStatus, Post, PostStatus, ServiceAspect

from .conftest import make_member, make_post, post_raw

pytestmark = pytest.mark.django_db


def test_catalogue_seeded_with_three_categories_and_nine_aspects():
    from kangle.members.constants import Aspect
    from kangle.posts.models import ServiceCategory

    assert ServiceCategory.objects.count() == 3
    assert sorted(ServiceAspect.objects.values_list("code", flat=True)) == sorted(Aspect)
    names = dict(ServiceAspect.objects.values_list("code", "name"))
    assert (
        names["convenience"] == "便民服务"
        and names["safety"] == "平安守护"
        and names["elderly"] == "助老帮困"
    )


def test_catalogue_admin_renames_reorders_and_retires_aspect_without_breaking_posts(personas):
    # The personas' tree has two streets, so the shared catalogue is the superuser's to edit.
    post = make_post(personas.secretary_a, personas.tree.community_a)
    aspect = ServiceAspect.objects.get(code="convenience")
    services.aspect_update(
        actor=personas.superuser, aspect=aspect, name="便民服务站", sort_order=9, is_active=False
    )
    post.refresh_from_db()
    assert post.aspect.name == "便民服务站" and post.aspect.is_active is False
    with pytest.raises(UserError) as err:
        make_post(personas.secretary_a, personas.tree.community_a)
    assert err.value.field == "aspect"
    with pytest.raises(NotAllowed):
        services.aspect_update(actor=personas.secretary_a, aspect=aspect, name="x")
    with pytest.raises(UserError):
        services.aspect_update(actor=personas.superuser, aspect=aspect, name="  ")
    assert AuditEvent.objects.filter(verb="aspect.update").count() == 1


def test_post_create_derives_slots_and_place(personas):
    t = personas.tree
    post = make_post(
        personas.secretary_a,
        t.community_a,
        venue=t.venue_a.pk,
        sessions=["2026-12-05 14:00-16:00"],
        weekly_slots=["sat_am"],
    )
    assert post.status == PostStatus.OPEN
    # Saturday morning plus the Saturday-afternoon session (2026-12-05 is a Saturday).
    assert post.slot_mask == (1 << 15) | (1 << 16)
    assert post.place_community_id == t.community_a.pk and post.place_area_id == t.area_1.pk
    assert post.sessions.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"difficulty": 0}, "difficulty", "invalid_difficulty"),
        ({"difficulty": 6}, "difficulty", "invalid_difficulty"),
        ({"difficulty": "hard"}, "difficulty", "invalid_difficulty"),
        ({"ends_on": "2025-12-31"}, "ends_on", "schedule_ends_before_start"),
        ({"sessions": ["2026-12-05 11:00-09:00"]}, "sessions", "schedule_ends_before_start"),
        (
            {"sessions": [{"starts_at": "2026-12-05T10:00:00", "ends_at": "2026-12-05T10:00:00"}]},
            "sessions",
            "schedule_ends_before_start",
        ),
        ({"sessions": ["next saturday"]}, "sessions", "invalid_session"),
        ({"weekly_slots": [], "sessions": []}, "weekly_slots", "schedule_required"),
        ({"weekly_slots": ["sat_night"]}, "weekly_slots", "invalid_slot"),
        ({"capacity": 0}, "capacity", "invalid_capacity"),
        ({"title": " "}, "title", "title_required"),
        ({"aspect": "nope"}, "aspect", "invalid_aspect"),
        ({"required_skills": ["juggling"]}, "required_skills", "invalid_skill"),
        ({"starts_on": "2026-13-01"}, "starts_on", "invalid_starts_on"),
    ],
)
def test_bad_post_input_is_refused_with_field_and_nothing_written(personas, overrides, field, code):
    with pytest.raises(UserError) as err:
        make_post(personas.secretary_a, personas.tree.community_a, **overrides)
    assert err.value.field == field and err.value.code == code
    assert err.value.zh and err.value.en
    assert Post.objects.count() == 0


def test_post_outside_scope_or_on_estate_is_refused(personas):
    t = personas.tree
    with pytest.raises(UserError) as err:
        make_post(personas.secretary_b, t.community_a)
    assert err.value.field == "org"
    with pytest.raises(UserError) as err:
        make_post(personas.street_admin, t.estate_a)
    assert err.value.code == "invalid_org_kind"


def test_claim_happy_path_notifies_and_audits(personas, kj_member, django_capture_on_commit_callbacks):
    post = make_post(personas.secretary_a, personas.tree.community_a, capacity=1)
    with django_capture_on_commit_callbacks(execute=True):
        claim = services.claim_create(actor=personas.member, post=post)
    post.refresh_from_db()
    assert (
        claim.status == ClaimStatus.CONFIRMED and post.claimed_count == 1 and post.status == PostStatus.FULL
    )
    assert Notification.objects.filter(recipient=personas.secretary_a, title="新的岗位认领").exists()
    assert Notification.objects.filter(recipient=personas.member).exists()
    assert AuditEvent.objects.filter(verb="claim.create").exists()


def test_claim_on_full_post(personas, kj_member):
    t = personas.tree
    post = make_post(personas.secretary_a, t.community_a, capacity=1)
    other = make_member(t.community_a, slots=["sat_am"])
    services.claim_create(actor=personas.secretary_a, post=post, member=other)
    with pytest.raises(UserError) as err:
        services.claim_create(actor=personas.member, post=post)
    assert err.value.code == "post_full" and err.value.status == 409
    assert Claim.objects.filter(post=post).count() == 1


def test_claim_on_closed_post(personas, kj_member):
    post = make_post(personas.secretary_a, personas.tree.community_a)
    services.post_set_status(actor=personas.secretary_a, post=post, action="close")
    with pytest.raises(UserError) as err:
        services.claim_create(actor=personas.member, post=post)
    assert err.value.code == "post_closed"


def test_draft_post_is_not_found_for_members(personas, kj_member):
    post = make_post(personas.secretary_a, personas.tree.community_a, publish=False)
    with pytest.raises(Http404):
        services.claim_create(actor=personas.member, post=post)


def test_second_claim_on_same_post(personas, kj_member):
    post = make_post(personas.secretary_a, personas.tree.community_a)
    services.claim_create(actor=personas.member, post=post)
    with pytest.raises(UserError) as err:
        services.claim_create(actor=personas.member, post=post)
    assert err.value.code == "already_claimed"
    assert Claim.objects.filter(post=post).count() == 1


def test_claim_outside_reach_is_404(personas, kj_member):
    post = make_post(personas.secretary_b, personas.tree.community_b)
    with pytest.raises(Http404):
        services.claim_create(actor=personas.member, post=post)


def test_area_and_street_posts_are_within_reach(personas, kj_member):
    t = personas.tree
    area_post = make_post(personas.area_admin, t.area_1, weekly_slots=["mon_am"])
    street_post = make_post(personas.street_admin, t.street, weekly_slots=["tue_am"])
    services.claim_create(actor=personas.member, post=area_post)
    services.claim_create(actor=personas.member, post=street_post)
    other_area = make_post(personas.street_admin, t.area_2, weekly_slots=["wed_am"])
    with pytest.raises(Http404):
        services.claim_create(actor=personas.member, post=other_area)


def test_only_approved_members_claim(personas):
    t = personas.tree
    make_member(t.community_a, user=personas.member, status=Status.PENDING, slots=["sat_am"])
    post = make_post(personas.secretary_a, t.community_a)
    with pytest.raises(UserError) as err:
        services.claim_create(actor=personas.member, post=post)
    assert err.value.code == "member_not_approved"
    with pytest.raises(NotAllowed):
        services.claim_create(actor=personas.resident, post=post)


def test_clashing_times(personas, kj_member):
    t = personas.tree
    first = make_post(personas.secretary_a, t.community_a, weekly_slots=["sat_am"], title="理发")
    second = make_post(personas.secretary_a, t.community_a, weekly_slots=["sat_am", "sun_am"], title="巡逻")
    services.claim_create(actor=personas.member, post=first)
    with pytest.raises(UserError) as err:
        services.claim_create(actor=personas.member, post=second)
    assert err.value.code == "schedule_clash" and "理发" in err.value.zh


@time_machine.travel(dt.datetime(2025, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
def test_session_clashes_with_weekly_slot_only_inside_its_date_range(personas, kj_member):
    t = personas.tree
    weekly = make_post(
        personas.secretary_a,
        t.community_a,
        weekly_slots=["sat_am"],
        starts_on="2026-01-01",
        ends_on="2026-06-30",
    )
    services.claim_create(actor=personas.member, post=weekly)
    later = make_post(
        personas.secretary_a, t.community_a, weekly_slots=[], sessions=["2026-12-05 09:00-11:00"]
    )
    services.claim_create(actor=personas.member, post=later)  # after the weekly post ends: no clash
    inside = make_post(
        personas.secretary_a, t.community_a, weekly_slots=[], sessions=["2026-03-07 09:30-10:30"]
    )
    with pytest.raises(UserError) as err:
        services.claim_create(actor=personas.member, post=inside)
    assert err.value.code == "schedule_clash"


def test_capacity_lowered_below_claims_is_refused(personas, kj_member):
    t = personas.tree
    post = make_post(personas.secretary_a, t.community_a, capacity=3)
    services.claim_create(actor=personas.member, post=post)
    services.claim_create(
        actor=personas.secretary_a, post=post, member=make_member(t.community_a, slots=["sat_am"])
    )
    with pytest.raises(UserError) as err:
        services.post_update(actor=personas.secretary_a, post=post, **post_raw(t.community_a, capacity=1))
    assert err.value.code == "capacity_below_claims" and err.value.field == "capacity" and "2" in err.value.zh
    post.refresh_from_db()
    assert post.capacity == 3
    services.post_update(actor=personas.secretary_a, post=post, **post_raw(t.community_a, capacity=2))
    post.refresh_from_db()
    assert post.capacity == 2 and post.status == PostStatus.FULL


def test_confirmation_withdraw_and_removal(personas, kj_member, django_capture_on_commit_callbacks):
    t = personas.tree
    post = make_post(personas.secretary_a, t.community_a, needs_confirmation=True, capacity=1)
    claim = services.claim_create(actor=personas.member, post=post)
    assert claim.status == ClaimStatus.PENDING
    post.refresh_from_db()
    assert post.status == PostStatus.FULL  # a pending claim holds the place
    with pytest.raises(NotAllowed):
        services.claim_confirm(actor=personas.grid_leader, claim=claim)
    services.claim_confirm(actor=personas.secretary_a, claim=claim)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.CONFIRMED
    with pytest.raises(UserError) as err:
        services.claim_remove(actor=personas.secretary_a, claim=claim, reason=" ")
    assert err.value.field == "reason"
    with django_capture_on_commit_callbacks(execute=True):
        services.claim_remove(actor=personas.secretary_a, claim=claim, reason="时间调整")
    post.refresh_from_db()
    assert post.claimed_count == 0 and post.status == PostStatus.OPEN
    assert Notification.objects.filter(recipient=personas.member, body__contains="时间调整").exists()
    again = services.claim_create(actor=personas.member, post=post)
    with pytest.raises(Http404):
        services.claim_withdraw(actor=personas.secretary_a, claim=again)
    services.claim_withdraw(actor=personas.member, claim=again)
    with pytest.raises(UserError) as err:
        services.claim_withdraw(actor=personas.member, claim=again)
    assert err.value.code == "claim_ended"


def test_publish_close_reopen_transitions(personas):
    post = make_post(personas.secretary_a, personas.tree.community_a, publish=False)
    assert (
        services.post_set_status(actor=personas.secretary_a, post=post, action="publish").status
        == PostStatus.OPEN
    )
    with pytest.raises(UserError):
        services.post_set_status(actor=personas.secretary_a, post=post, action="publish")
    assert (
        services.post_set_status(actor=personas.secretary_a, post=post, action="close").status
        == PostStatus.CLOSED
    )
    assert (
        services.post_set_status(actor=personas.secretary_a, post=post, action="reopen").status
        == PostStatus.OPEN
    )
    with pytest.raises(NotAllowed):
        services.post_set_status(actor=personas.secretary_b, post=post, action="close")


def test_invitation(personas, kj_member, django_capture_on_commit_callbacks):
    post = make_post(personas.secretary_a, personas.tree.community_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_send(
            actor=personas.secretary_a, post=post, member=kj_member, reasons="技能匹配：理发"
        )
    assert Notification.objects.filter(recipient=personas.member, title__contains="邀请").exists()
    with pytest.raises(UserError):
        services.invitation_send(actor=personas.secretary_a, post=post, member=kj_member)
    assert services.claim_create(actor=personas.member, post=post).source == "invitation"
    outsider = make_member(personas.tree.community_b, slots=["sat_am"])
    with pytest.raises(Http404):
        services.invitation_send(actor=personas.secretary_a, post=post, member=outsider)


def test_session_text_accepts_full_width_digits(personas):
    post = make_post(
        personas.secretary_a,
        personas.tree.community_a,
        weekly_slots=[],
        sessions="２０２６-12-05 09:00–11:00",
    )
    session = post.sessions.get()
    assert session.ends_at - session.starts_at == dt.timedelta(hours=2)


def test_a_street_admin_edits_the_catalogue_only_when_their_scope_covers_every_street(personas):
    from kangle.core.errors import NotAllowed
    from kangle.orgs.models import OrgUnit
    from kangle.posts import services
    from kangle.posts.models import ServiceAspect

    aspect = ServiceAspect.objects.get(code="civic")
    with pytest.raises(NotAllowed):
        services.aspect_update(actor=personas.street_admin, aspect=aspect, name="改名")
    assert ServiceAspect.objects.get(code="civic").name != "改名"
    # A deployment with one street: its admin's scope covers every street.
    OrgUnit.objects.filter(pk=personas.tree.other_street.pk).update(kind="area")
    services.aspect_update(actor=personas.street_admin, aspect=aspect, name="改名")
    assert ServiceAspect.objects.get(code="civic").name == "改名"
