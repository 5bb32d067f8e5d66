"""Service that records itself: post sessions checked in and out, whistle answers marked present, and the
records they make verified into points like any other; family sign-up for activities that allow it."""

import datetime as dt

import pytest
from django.http import Http404

from activities.conftest import T0, make_member
from kangle.activities import capture, services
from kangle.activities.models import (
    RecordSource,
    RecordStatus,
    ServiceRecord,
    SessionAttendance,
    SignupStatus,
)
from kangle.core.errors import NotAllowed, UserError
from kangle.members.models import HouseholdMember
from kangle.points.models import LedgerEntry
from kangle.posts.models import Claim, ClaimStatus, Post, PostSession, PostStatus

pytestmark = pytest.mark.django_db

MIN = dt.timedelta(minutes=1)
H = dt.timedelta(hours=1)


@pytest.fixture
def session(kit):
    post = Post.objects.create(
        org=kit.p.tree.community_a,
        aspect=kit.aspect,
        title="雷锋亭值守",
        starts_on=T0.date(),
        capacity=5,
        difficulty=2,
        status=PostStatus.OPEN,
        created_at=T0 - dt.timedelta(days=10),
        updated_at=T0 - dt.timedelta(days=10),
    )
    Claim.objects.create(
        post=post, member=kit.member, status=ClaimStatus.CONFIRMED, claimed_at=T0 - dt.timedelta(days=9)
    )
    post.claimed_count = 1
    post.save(update_fields=["claimed_count"])
    return PostSession.objects.create(post=post, starts_at=T0, ends_at=T0 + 2 * H)


def _points(record) -> int:
    return sum(
        LedgerEntry.objects.filter(
            source_type=services.AWARD_SOURCE_TYPE, source_id=str(record.pk)
        ).values_list("points", flat=True)
    )


# --- post sessions ----------------------------------------------------------------------------------------
def test_completed_session_becomes_a_record_verified_into_points(kit, session):
    capture.session_check_in(actor=kit.p.member, session=session, now=T0 - 10 * MIN)
    attendance = capture.session_check_out(actor=kit.p.member, session=session, now=T0 + 2 * H + 5 * MIN)
    assert attendance.present_minutes == 120 and attendance.credited
    record = ServiceRecord.objects.get(session_attendance=attendance)
    assert record.source == RecordSource.SESSION and record.status == RecordStatus.PENDING
    assert record.minutes == 120 and record.difficulty == 2 and record.org == kit.p.tree.community_a
    services.record_verify(actor=kit.p.secretary_a, record=record, now=T0 + 3 * H)
    assert _points(record) > 0


def test_short_session_presence_makes_no_record(kit, session):
    capture.session_check_in(actor=kit.p.member, session=session, now=T0 + H + 30 * MIN)
    attendance = capture.session_check_out(actor=kit.p.member, session=session, now=T0 + 2 * H)
    assert not attendance.credited and not ServiceRecord.objects.exists()


def test_session_check_in_for_a_member_who_did_not_claim_the_post_is_refused(kit, session):
    other, user = kit.member_with_user("王五")
    with pytest.raises(UserError) as error:
        capture.session_check_in(actor=user, session=session, now=T0)
    assert error.value.code == "not_claimed" and "没有认领岗位" in error.value.zh
    with pytest.raises(UserError) as by_staff:
        capture.session_check_in(actor=kit.p.secretary_a, session=session, member=other, now=T0)
    assert by_staff.value.code == "not_claimed"
    assert not SessionAttendance.objects.exists()


def test_session_check_in_window_and_twice(kit, session):
    with pytest.raises(UserError) as early:
        capture.session_check_in(actor=kit.p.member, session=session, now=T0 - 31 * MIN)
    assert early.value.code == "too_early"
    capture.session_check_in(actor=kit.p.member, session=session, now=T0 - 30 * MIN)
    with pytest.raises(UserError) as twice:
        capture.session_check_in(actor=kit.p.member, session=session, now=T0)
    assert twice.value.code == "already_checked_in"


def test_staff_check_in_scope_and_role(kit, session):
    with pytest.raises(Http404):
        capture.session_check_in(actor=kit.p.secretary_b, session=session, member=kit.member, now=T0)
    Post.objects.filter(pk=session.post_id).update(org=kit.p.tree.grid_a)
    session.refresh_from_db()
    session.post.refresh_from_db()
    with pytest.raises(NotAllowed):  # a grid leader is in scope of a grid's post but does not manage it
        capture.session_check_in(actor=kit.p.grid_leader, session=session, member=kit.member, now=T0)
    attendance = capture.session_check_in(actor=kit.p.secretary_a, session=session, member=kit.member, now=T0)
    assert attendance.check_in_method == "staff"


# --- whistle calls ----------------------------------------------------------------------------------------
def test_answer_marked_present_becomes_a_record_verified_into_points(kit):
    call = kit.call()
    call.aspect = kit.aspect
    call.save(update_fields=["aspect"])
    response = services.response_create(actor=kit.p.member, call=call, now=T0 - H)
    with pytest.raises(UserError) as early:
        capture.response_mark_present(actor=kit.p.secretary_a, response=response, now=T0 - MIN)
    assert early.value.code == "call_not_started"
    record = capture.response_mark_present(actor=kit.p.secretary_a, response=response, now=T0 + 3 * H)
    assert record.source == RecordSource.WHISTLE and record.minutes == 180 and record.call == call
    with pytest.raises(UserError) as twice:
        capture.response_mark_present(actor=kit.p.secretary_a, response=response, now=T0 + 3 * H)
    assert twice.value.code == "already_present"
    services.record_verify(actor=kit.p.area_admin, record=record, now=T0 + 4 * H)
    assert _points(record) > 0


def test_mark_present_scope_role_and_minutes(kit):
    call = kit.call()
    call.aspect = kit.aspect
    call.save(update_fields=["aspect"])
    response = services.response_create(actor=kit.p.member, call=call, now=T0 - H)
    with pytest.raises(Http404):
        capture.response_mark_present(actor=kit.p.secretary_b, response=response, now=T0 + H)
    with pytest.raises((Http404, NotAllowed)):  # a member is nobody's caller
        capture.response_mark_present(actor=kit.p.member, response=response, now=T0 + H)
    with pytest.raises(UserError) as error:
        capture.response_mark_present(actor=kit.p.secretary_a, response=response, minutes=0, now=T0 + H)
    assert error.value.field == "minutes"
    assert not ServiceRecord.objects.exists()


# --- family sign-up ---------------------------------------------------------------------------------------
def test_member_signs_up_a_household_member_where_family_is_allowed(kit):
    activity = kit.activity(capacity=2, allows_family=True)
    child = HouseholdMember.objects.create(member=kit.member, name="李小明", relation="child")
    services.signup_create(actor=kit.p.member, activity=activity, now=T0 - H)
    signup = services.signup_household(
        actor=kit.p.member, activity=activity, household_member=child, now=T0 - H
    )
    assert signup.status == SignupStatus.CONFIRMED and signup.member == kit.member
    activity.refresh_from_db()
    assert activity.confirmed_count == 2
    with pytest.raises(UserError) as twice:
        services.signup_household(actor=kit.p.member, activity=activity, household_member=child, now=T0 - H)
    assert twice.value.code == "already_signed_up"


def test_family_sign_up_refused_where_not_allowed_or_not_ones_own(kit):
    activity = kit.activity()
    child = HouseholdMember.objects.create(member=kit.member, name="李小明", relation="child")
    with pytest.raises(UserError) as error:
        services.signup_household(actor=kit.p.member, activity=activity, household_member=child, now=T0 - H)
    assert error.value.code == "family_not_allowed" and error.value.field == "household_member"
    family = kit.activity(allows_family=True, title="夏送凉")
    other = make_member(kit.p.tree.community_a, name="赵六")
    strangers_child = HouseholdMember.objects.create(member=other, name="赵小", relation="child")
    with pytest.raises(Http404):
        services.signup_household(
            actor=kit.p.member, activity=family, household_member=strangers_child, now=T0 - H
        )


# --- API ---------------------------------------------------------------------------------------------------
def test_api_session_check_in_out(client, api, kit, session, time_machine):
    time_machine.move_to(T0 - 10 * MIN, tick=False)
    url = f"/activities/sessions/{session.pk}/check-in"
    assert api.post(url, {}).status_code == 401
    client.force_login(kit.p.secretary_b)
    assert api.post(url, {"member": kit.member.pk}).status_code == 404
    other, user = kit.member_with_user("王五")
    client.force_login(user)
    refused = api.post(url, {})
    assert refused.status_code == 409 and refused.json()["code"] == "not_claimed"
    assert api.post(url, {"member": kit.member.pk}).status_code == 403  # a member cannot check others in
    client.force_login(kit.p.member)
    assert api.post(url, {}).status_code == 201
    time_machine.move_to(T0 + 2 * H, tick=False)
    out = api.post(f"/activities/sessions/{session.pk}/check-out", {})
    assert out.status_code == 200 and out.json()["credited"] and out.json()["record"]


def test_api_mark_present(client, api, kit, time_machine):
    call = kit.call()
    call.aspect = kit.aspect
    call.save(update_fields=["aspect"])
    response = services.response_create(actor=kit.p.member, call=call, now=T0 - H)
    url = f"/activities/calls/responses/{response.pk}/present"
    time_machine.move_to(T0 + 3 * H, tick=False)
    assert api.post(url, {}).status_code == 401
    client.force_login(kit.p.secretary_b)
    assert api.post(url, {}).status_code == 404
    client.force_login(kit.p.member)
    assert api.post(url, {}).status_code in (403, 404)
    client.force_login(kit.p.secretary_a)
    made = api.post(url, {"minutes": 90})
    assert made.status_code == 201 and made.json()["source"] == "whistle" and made.json()["minutes"] == 90


def test_api_family_sign_up(client, api, kit):
    activity = kit.activity(allows_family=True, starts_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=3))
    child = HouseholdMember.objects.create(member=kit.member, name="李小明", relation="child")
    url = f"/activities/{activity.pk}/family-signups"
    assert api.post(url, {"household_member": child.pk}).status_code == 401
    client.force_login(kit.p.secretary_b)
    assert api.post(url, {"household_member": child.pk}).status_code == 404
    other, user = kit.member_with_user("王五")
    client.force_login(user)
    assert api.post(url, {"household_member": child.pk}).status_code == 404  # not their household
    client.force_login(kit.p.member)
    made = api.post(url, {"household_member": child.pk})
    assert made.status_code == 201 and made.json()["household_member"] == "李小明"


def test_call_page_marks_present(client, kit, time_machine):
    call = kit.call()
    call.aspect = kit.aspect
    call.save(update_fields=["aspect"])
    response = services.response_create(actor=kit.p.member, call=call, now=T0 - H)
    time_machine.move_to(T0 + 3 * H, tick=False)
    url = f"/activities/calls/{call.pk}/"
    data = {"action": "present", "response": response.pk}
    assert client.post(url, data).status_code == 302 and not ServiceRecord.objects.exists()  # to login
    client.force_login(kit.p.secretary_b)
    assert client.post(url, data).status_code == 404
    client.force_login(kit.p.member)
    assert client.post(url, data).status_code in (403, 404)
    assert not ServiceRecord.objects.exists()
    client.force_login(kit.p.secretary_a)
    assert f'data-present="{response.pk}"' in client.get(url).content.decode()
    assert client.post(url, data).status_code == 302
    record = ServiceRecord.objects.get()
    assert record.source == RecordSource.WHISTLE and record.whistle_response_id == response.pk
    assert client.post(url, {"action": "present", "response": 999999}).status_code == 404


def test_phone_sessions_page(client, kit, session, time_machine):
    time_machine.move_to(T0 - 10 * MIN, tick=False)
    url = "/activities/m/sessions/"
    assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(kit.p.secretary_a)
    assert client.get(url).status_code == 403  # staff without a member file
    other, user = kit.member_with_user("王五")
    client.force_login(user)
    assert f'data-session="{session.pk}"' not in client.get(url).content.decode()
    client.post(url, {"session": session.pk, "action": "in"})  # did not claim the post: refused
    assert not SessionAttendance.objects.exists()
    outsider, outsider_user = kit.member_with_user("赵六", community=kit.p.tree.community_b)
    client.force_login(outsider_user)
    assert client.post(url, {"session": session.pk, "action": "in"}).status_code == 404
    client.force_login(kit.p.member)
    assert f'data-session="{session.pk}"' in client.get(url).content.decode()
    assert client.post(url, {"session": session.pk, "action": "in"}).status_code == 302
    time_machine.move_to(T0 + 2 * H, tick=False)
    client.post(url, {"session": session.pk, "action": "out"})
    attendance = SessionAttendance.objects.get()
    assert attendance.credited and attendance.service_record.source == RecordSource.SESSION


def test_phone_activity_page_family_sign_up(client, kit, time_machine):
    time_machine.move_to(T0 - dt.timedelta(days=1), tick=False)
    activity = kit.activity(allows_family=True)
    child = HouseholdMember.objects.create(member=kit.member, name="李小明", relation="child")
    url = f"/activities/m/{activity.pk}/"
    data = {"action": "family", "household_member": child.pk}
    assert client.post(url, data).status_code == 302 and not activity.signups.exists()  # to login
    client.force_login(kit.p.secretary_a)
    assert client.post(url, data).status_code == 403  # staff without a member file
    other, user = kit.member_with_user("王五")
    client.force_login(user)
    assert client.post(url, data).status_code == 404  # not their household
    outsider, outsider_user = kit.member_with_user("赵六", community=kit.p.tree.community_b)
    client.force_login(outsider_user)
    assert client.post(url, data).status_code == 404
    client.force_login(kit.p.member)
    assert f'data-household="{child.pk}"' in client.get(url).content.decode()
    assert client.post(url, data).status_code == 302
    signup = activity.signups.get()
    assert signup.household_member == child
    page = client.get(url).content.decode()
    assert 'id="signup-submit"' in page  # the member's own place is still open to take
