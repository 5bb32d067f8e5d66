"""Services: sign-up and waiting list, QR check-in/out, whistle calls, service records and the award hook."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from PIL import Image

from kangle.activities import jobs, qr, selectors, services
from kangle.activities.models import (
    Attendance,
    CallStatus,
    RecordSource,
    RecordStatus,
    ServiceRecord,
    SignupStatus,
    WhistleResponse,
)
from kangle.activities.services import records
from kangle.core.errors import NotAllowed, UserError
from kangle.core.models import AuditEvent
from kangle.core.uploads import validate_image
from kangle.notify.models import Notification

from .conftest import T0, make_member

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)


def photo():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, "JPEG")
    return validate_image(SimpleUploadedFile("p.jpg", buffer.getvalue(), content_type="image/jpeg"))


# --- activities and sign-up -------------------------------------------------------------------------------
def test_activity_create_validates(kit):
    with pytest.raises(UserError) as error:
        kit.activity(minutes=0)
    assert error.value.field == "ends_at"
    with pytest.raises(UserError) as error:
        kit.activity(capacity=0)
    assert error.value.field == "capacity"
    with pytest.raises(Http404):
        kit.activity(actor=kit.p.secretary_b)
    with pytest.raises(NotAllowed):
        kit.activity(actor=kit.p.grid_leader, org=kit.p.tree.grid_a)


def test_signup_past_capacity_goes_to_waiting_list_and_moves_up(kit, django_capture_on_commit_callbacks):
    activity = kit.activity(capacity=1)
    before = T0 - dt.timedelta(days=1)
    first = services.signup_create(actor=kit.p.member, activity=activity, now=before)
    other, other_user = kit.member_with_user("王芳")
    waiting = services.signup_create(actor=other_user, activity=activity, now=before)
    assert first.status == SignupStatus.CONFIRMED
    assert waiting.status == SignupStatus.WAITLISTED
    with pytest.raises(UserError) as error:
        services.signup_create(actor=kit.p.member, activity=activity, now=before)
    assert error.value.code == "already_signed_up"
    with django_capture_on_commit_callbacks(execute=True):
        services.signup_cancel(actor=kit.p.member, signup=first, now=before)
    waiting.refresh_from_db()
    activity.refresh_from_db()
    assert waiting.status == SignupStatus.CONFIRMED and waiting.promoted_at == before
    assert activity.confirmed_count == 1
    titles = list(Notification.objects.filter(recipient=other_user).values_list("title", flat=True))
    assert any("候补成功" in t for t in titles)


def test_signup_closes_at_start_minute(kit):
    activity = kit.activity()
    services.signup_create(actor=kit.p.member, activity=activity, now=T0 - MIN)
    _, late_user = kit.member_with_user("赵强")
    with pytest.raises(UserError) as error:
        services.signup_create(actor=late_user, activity=activity, now=T0)
    assert error.value.code == "signup_closed"


def test_signup_by_member_of_other_community_is_404(kit):
    activity = kit.activity()
    _, outsider = kit.member_with_user("孙丽", community=kit.p.tree.community_b)
    with pytest.raises(Http404):
        services.signup_create(actor=outsider, activity=activity, now=T0 - MIN)


def test_team_signup_by_party_org(kit):
    activity = kit.activity(capacity=2)
    m2, _ = kit.member_with_user("周杰", party_org=kit.party_org)
    m3, _ = kit.member_with_user("吴敏", party_org=kit.party_org)
    signups = services.signup_team(
        actor=kit.p.employer, activity=activity, member_ids=[kit.member.pk, m2.pk, m3.pk], now=T0 - MIN
    )
    assert [s.status for s in signups] == ["confirmed", "confirmed", "waitlisted"]
    assert {s.party_org_id for s in signups} == {kit.party_org.pk}
    stranger = make_member(kit.p.tree.community_a, name="陌生人")
    with pytest.raises(UserError) as error:
        services.signup_team(actor=kit.p.employer, activity=activity, member_ids=[stranger.pk], now=T0 - MIN)
    assert error.value.field == "member_ids"
    with pytest.raises(NotAllowed):
        services.signup_team(actor=kit.p.member, activity=activity, member_ids=[kit.member.pk], now=T0 - MIN)


# --- QR check-in and check-out ----------------------------------------------------------------------------
def test_qr_token_valid_in_its_window_and_the_next_then_expired(kit, settings):
    activity = kit.activity()
    shown = T0 - dt.timedelta(minutes=10)
    token = qr.make_token(activity, "in", now=shown)
    window = settings.KANGLE_QR_WINDOW_SECONDS
    qr.check_token(activity, "in", token, now=shown)
    start_of_window = dt.datetime.fromtimestamp(int(token.split(".")[0]) * window, tz=dt.UTC)
    qr.check_token(activity, "in", token, now=start_of_window + dt.timedelta(seconds=2 * window - 1))
    with pytest.raises(UserError) as error:
        qr.check_token(activity, "in", token, now=start_of_window + dt.timedelta(seconds=2 * window))
    assert error.value.code == "qr_expired"
    assert qr.token_expires_at(token) == start_of_window + dt.timedelta(seconds=2 * window)


def test_forged_and_wrong_action_tokens_are_refused(kit):
    activity = kit.activity()
    other = kit.activity(title="夏送凉")
    moment = T0 - MIN
    token = qr.make_token(activity, "in", now=moment)
    window = token.split(".")[0]
    for bad in (
        f"{window}.{'0' * 24}",
        "garbage",
        "",
        qr.make_token(other, "in", now=moment),
        qr.make_token(activity, "out", now=moment),
        f"{int(window) + 5}.{token.split('.')[1]}",
    ):
        with pytest.raises(UserError) as error:
            services.attendance_check_in(actor=kit.p.member, activity=activity, token=bad, now=moment)
        assert error.value.code == "qr_invalid", bad
    assert not Attendance.objects.exists()


def test_expired_token_refused_at_check_in(kit):
    activity = kit.activity()
    token = qr.make_token(activity, "in", now=T0 - dt.timedelta(minutes=5))
    with pytest.raises(UserError) as error:
        services.attendance_check_in(actor=kit.p.member, activity=activity, token=token, now=T0 - MIN)
    assert error.value.code == "qr_expired"


def _in(kit, activity, moment):
    return services.attendance_check_in(
        actor=kit.p.member, activity=activity, token=qr.make_token(activity, "in", now=moment), now=moment
    )


def _out(kit, activity, moment):
    return services.attendance_check_out(
        actor=kit.p.member, activity=activity, token=qr.make_token(activity, "out", now=moment), now=moment
    )


def test_scanning_twice_answers_with_the_same_row(kit):
    activity = kit.activity()
    first = _in(kit, activity, T0 - MIN)
    again = _in(kit, activity, T0)
    assert again.pk == first.pk and again.checked_in_at == T0 - MIN
    assert Attendance.objects.count() == 1


def test_staff_checking_in_someone_already_in_are_told(kit):
    activity = kit.activity()
    _in(kit, activity, T0 - MIN)
    with pytest.raises(UserError) as error:
        services.attendance_check_in(actor=kit.p.secretary_a, activity=activity, member=kit.member, now=T0)
    assert error.value.code == "already_checked_in" and error.value.status == 409
    assert Attendance.objects.count() == 1


def test_the_scan_path_is_two_reads_and_one_short_transaction(kit):
    activity = kit.activity()
    signup = services.signup_create(actor=kit.p.member, activity=activity, now=T0 - dt.timedelta(days=1))
    token = qr.make_token(activity, "in", now=T0)
    with CaptureQueriesContext(connection) as captured:
        attendance, created = services.attendance_scan(
            actor=kit.p.member, activity_id=activity.pk, token=token, now=T0
        )
    assert created and attendance.signup_id == signup.pk  # the sign-up is found inside the INSERT
    statements = [q["sql"].lstrip().upper() for q in captured.captured_queries]
    selects = [s for s in statements if s.startswith("SELECT")]
    writes = [s for s in statements if s.startswith(("INSERT", "WITH"))]
    assert len(selects) == 2  # the member file and the activity; the token is checked in memory
    # The attendance, then its audit event: on PostgreSQL one statement (no BEGIN or COMMIT to wait for).
    written = " ".join(writes)
    assert written.index('"ACTIVITIES_ATTENDANCE"') < written.index('"CORE_AUDITEVENT"')
    assert len(writes) == (1 if connection.vendor == "postgresql" else 2)
    event = AuditEvent.objects.get(verb="attendance.check_in")
    assert event.object_id == str(attendance.pk) and event.actor_id == kit.p.member.pk
    assert event.details == {"activity": activity.pk, "member": kit.member.pk, "method": "qr"}
    assert not [s for s in statements if s.startswith("UPDATE")]
    with CaptureQueriesContext(connection) as repeat:
        again, created = services.attendance_scan(
            actor=kit.p.member, activity_id=activity.pk, token=token, now=T0 + dt.timedelta(seconds=5)
        )
    assert not created and again.pk == attendance.pk
    assert not [q for q in repeat.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert (
        Attendance.objects.count() == 1 and AuditEvent.objects.filter(verb="attendance.check_in").count() == 1
    )


def test_scanning_an_activity_out_of_reach_or_cancelled_is_not_found(kit):
    elsewhere = kit.activity(org=kit.p.tree.community_b, actor=kit.p.secretary_b)
    with pytest.raises(Http404):
        services.attendance_scan(
            actor=kit.p.member, activity_id=elsewhere.pk, token=qr.make_token(elsewhere, "in", now=T0), now=T0
        )
    cancelled = kit.activity()
    services.activity_cancel(actor=kit.p.secretary_a, activity=cancelled, reason="暴雨", now=T0 - MIN)
    with pytest.raises(Http404):
        services.attendance_scan(
            actor=kit.p.member, activity_id=cancelled.pk, token=qr.make_token(cancelled, "in", now=T0), now=T0
        )
    with pytest.raises(Http404):
        services.attendance_scan(actor=kit.p.member, activity_id=10**9, token="1.x", now=T0)
    with pytest.raises(UserError) as refused:
        services.attendance_scan(
            actor=kit.p.secretary_a, activity_id=cancelled.pk, token="1.x", now=T0
        )  # staff without a member file
    assert refused.value.code == "not_a_member"
    assert not Attendance.objects.exists()


def test_check_out_without_check_in_refused(kit):
    activity = kit.activity()
    with pytest.raises(UserError) as error:
        _out(kit, activity, T0 + dt.timedelta(minutes=90))
    assert error.value.code == "not_checked_in"


def test_check_in_window_boundaries(kit):
    activity = kit.activity()
    opens = T0 - services.CHECK_IN_OPENS
    with pytest.raises(UserError) as error:
        _in(kit, activity, opens - MIN)
    assert error.value.code == "too_early"
    _in(kit, activity, opens)
    late = kit.activity(title="冬送暖")
    with pytest.raises(UserError) as error:
        _in(kit, late, late.ends_at)
    assert error.value.code == "activity_over"
    _in(kit, late, late.ends_at - MIN)


@pytest.mark.parametrize(
    ("out_after", "credited"),
    [(71, False), (72, True), (73, True)],  # 60% of 120 minutes = 72 minutes
)
def test_credit_needs_sixty_percent(kit, out_after, credited):
    activity = kit.activity(minutes=120, difficulty=3)
    _in(kit, activity, T0 - dt.timedelta(minutes=10))
    attendance = _out(kit, activity, T0 + dt.timedelta(minutes=out_after))
    assert attendance.present_minutes == out_after
    assert attendance.credited is credited
    record = ServiceRecord.objects.filter(attendance=attendance).first()
    if credited:
        assert record.source == RecordSource.ATTENDANCE and record.minutes == out_after
        assert record.difficulty == 3 and record.status == RecordStatus.PENDING
        assert record.started_at == T0
    else:
        assert record is None


def test_credit_ratio_is_a_setting(kit, settings):
    settings.KANGLE_ATTENDANCE_CREDIT_RATIO = 0.5
    activity = kit.activity(minutes=120)
    _in(kit, activity, T0)
    assert _out(kit, activity, T0 + dt.timedelta(minutes=60)).credited


def test_staff_check_in_for_member_without_phone(kit):
    activity = kit.activity()
    elder = make_member(kit.p.tree.community_a, name="老张")
    attendance = services.attendance_check_in(
        actor=kit.p.secretary_a, activity=activity, member=elder, now=T0
    )
    assert attendance.check_in_method == "staff" and attendance.recorded_by == kit.p.secretary_a
    with pytest.raises(Http404):
        services.attendance_check_in(actor=kit.p.secretary_b, activity=activity, member=elder, now=T0)
    # A grid leader's scope is the grid: a community's activity is outside it.
    with pytest.raises(Http404):
        services.attendance_check_in(actor=kit.p.grid_leader, activity=activity, member=elder, now=T0)
    grid_activity = kit.activity(org=kit.p.tree.grid_a, title="网格活动")
    with pytest.raises(NotAllowed):
        services.attendance_check_in(actor=kit.p.grid_leader, activity=grid_activity, member=elder, now=T0)
    out = services.attendance_check_out(
        actor=kit.p.secretary_a, activity=activity, member=elder, now=T0 + dt.timedelta(minutes=120)
    )
    assert out.credited and out.present_minutes == 120


def test_participants_and_beneficiaries(kit):
    activity = kit.activity()
    services.activity_set_beneficiaries(actor=kit.p.secretary_a, activity=activity, count=86, now=T0)
    activity.refresh_from_db()
    assert activity.beneficiary_count == 86
    with pytest.raises(UserError):
        services.activity_set_beneficiaries(actor=kit.p.secretary_a, activity=activity, count=-1, now=T0)
    with pytest.raises(Http404):
        services.activity_set_beneficiaries(actor=kit.p.secretary_b, activity=activity, count=3, now=T0)


# --- reminders --------------------------------------------------------------------------------------------
def test_reminder_sent_once_by_worker_at_the_boundary(kit, settings):
    settings.KANGLE_ACTIVITY_REMINDER_HOURS = 24
    activity = kit.activity()
    services.signup_create(actor=kit.p.member, activity=activity, now=T0 - dt.timedelta(days=2))
    assert jobs.send_activity_reminders(now=T0 - dt.timedelta(hours=24) - MIN) == 0
    assert jobs.send_activity_reminders(now=T0 - dt.timedelta(hours=24)) == 1
    assert jobs.send_activity_reminders(now=T0 - dt.timedelta(hours=23)) == 0
    reminders = Notification.objects.filter(recipient=kit.p.member, title__startswith="活动提醒")
    assert reminders.count() == 1
    activity.refresh_from_db()
    assert activity.reminder_sent_at == T0 - dt.timedelta(hours=24)


# --- whistle calls ----------------------------------------------------------------------------------------
def test_call_notifies_matching_members_and_party_orgs(kit, django_capture_on_commit_callbacks):
    from kangle.members.models import Skill

    barber = Skill.objects.get_or_create(code="haircut", defaults={"name": "理发"})[0]
    kit.member.skills.add(barber)
    _, unskilled = kit.member_with_user("钱多")
    with django_capture_on_commit_callbacks(execute=True):
        call = kit.call(skills=[barber], grids=[kit.p.tree.grid_a])
    assert list(selectors.matching_members(call)) == [kit.member]
    assert Notification.objects.filter(recipient=kit.p.member, title__contains="社区吹哨").exists()
    assert not Notification.objects.filter(recipient=unskilled).exists()
    assert Notification.objects.filter(recipient=kit.p.employer, link__contains="/party/calls/").exists()


def test_call_validation(kit):
    with pytest.raises(UserError) as error:
        services.call_create(
            actor=kit.p.secretary_a,
            org=kit.p.tree.community_a,
            title="x",
            place="y",
            starts_at=T0,
            ends_at=T0 + dt.timedelta(hours=1),
            people_needed=2,
            deadline=T0 - dt.timedelta(days=2),
            now=T0 - dt.timedelta(days=1),
        )
    assert error.value.field == "deadline"
    with pytest.raises(UserError) as error:
        kit.call(grids=[kit.p.tree.estate_b])
    assert error.value.field == "grids"
    with pytest.raises(Http404):
        kit.call(actor=kit.p.secretary_b)
    with pytest.raises(Http404):
        kit.call(actor=kit.p.grid_leader)  # a grid leader blows the whistle for the grid, not the community
    with pytest.raises(Http404):  # a resident holds no staff scope at all
        kit.call(actor=kit.p.resident)
    assert kit.call(actor=kit.p.grid_leader, org=kit.p.tree.grid_a).org == kit.p.tree.grid_a


def test_member_answers_and_progress_and_response_time(kit):
    call = kit.call(people=2)
    response = services.response_create(
        actor=kit.p.member, call=call, now=call.created_at + dt.timedelta(minutes=7)
    )
    call.refresh_from_db()
    assert call.responded_count == 1 and call.progress_percent == 50
    assert response.response_seconds == 7 * 60
    with pytest.raises(UserError) as error:
        services.response_create(actor=kit.p.member, call=call, now=call.created_at + dt.timedelta(minutes=8))
    assert error.value.code == "already_responded"


def test_answering_a_closed_call_refused(kit):
    call = kit.call()
    services.call_close(
        actor=kit.p.secretary_a, call=call, outcome="积水已清理", now=T0 - dt.timedelta(hours=2)
    )
    call.refresh_from_db()
    assert call.status == CallStatus.CLOSED and call.outcome == "积水已清理"
    with pytest.raises(UserError) as error:
        services.response_create(actor=kit.p.member, call=call, now=T0 - dt.timedelta(hours=1))
    assert error.value.code == "call_closed"
    with pytest.raises(UserError) as error:
        services.response_collective(
            actor=kit.p.employer, call=call, names=["李明"], now=T0 - dt.timedelta(hours=1)
        )
    assert error.value.code == "call_closed"


def test_answering_after_the_deadline_refused(kit):
    call = kit.call()
    services.response_create(actor=kit.p.member, call=call, now=call.deadline)
    _, late = kit.member_with_user("晚到")
    with pytest.raises(UserError) as error:
        services.response_create(actor=late, call=call, now=call.deadline + dt.timedelta(seconds=1))
    assert error.value.code == "call_closed"


def test_close_needs_an_outcome(kit):
    call = kit.call()
    with pytest.raises(UserError) as error:
        services.call_close(actor=kit.p.secretary_a, call=call, outcome="  ")
    assert error.value.field == "outcome"


def test_collective_report_with_named_list(kit):
    m2, _ = kit.member_with_user("周杰", party_org=kit.party_org)
    call = kit.call(people=3)
    fresh = services.response_collective(
        actor=kit.p.employer, call=call, names="李明\n周杰", now=call.created_at + dt.timedelta(minutes=30)
    )
    assert {r.member_id for r in fresh} == {kit.member.pk, m2.pk}
    assert {r.channel for r in fresh} == {"party_org"} and len({r.batch for r in fresh}) == 1
    call.refresh_from_db()
    assert call.responded_count == 2
    # Sending the list again is harmless.
    again = services.response_collective(
        actor=kit.p.employer,
        call=call,
        names=["李明", "周杰"],
        now=call.created_at + dt.timedelta(minutes=31),
    )
    assert again == []
    call.refresh_from_db()
    assert call.responded_count == 2


def test_collective_list_naming_a_non_member_accepts_none(kit):
    m2, _ = kit.member_with_user("周杰", party_org=kit.party_org)
    make_member(kit.p.tree.community_a, name="外单位")  # a member, but not of this organisation
    call = kit.call()
    with pytest.raises(services.CollectiveListError) as error:
        services.response_collective(
            actor=kit.p.employer,
            call=call,
            names=["李明", "不存在", "周杰", "外单位", "李明"],
            now=call.created_at + MIN,
        )
    rows = error.value.rows
    assert [(r["row"], r["name"]) for r in rows] == [(2, "不存在"), (4, "外单位"), (5, "李明")]
    assert "不存在" in error.value.zh and "nothing was submitted" in error.value.en
    assert error.value.as_dict()["rows"] == rows
    assert not WhistleResponse.objects.exists()
    call.refresh_from_db()
    assert call.responded_count == 0


def test_collective_names_someone_living_elsewhere(kit):
    make_member(kit.p.tree.community_b, name="远方", party_org=kit.party_org)
    call = kit.call()
    with pytest.raises(services.CollectiveListError) as error:
        services.response_collective(
            actor=kit.p.employer, call=call, names=["远方"], now=call.created_at + MIN
        )
    assert error.value.rows[0]["message_en"] == "does not live where this call is"


def test_grid_leader_reports_for_group(kit):
    call = kit.call(grids=[kit.p.tree.grid_a])
    fresh = services.response_grid(
        actor=kit.p.grid_leader, call=call, member_ids=[kit.member.pk], now=call.created_at + MIN
    )
    assert fresh[0].channel == "grid"
    outside = make_member(kit.p.tree.community_a, name="不在网格")
    with pytest.raises(UserError) as error:
        services.response_grid(
            actor=kit.p.grid_leader, call=call, member_ids=[outside.pk], now=call.created_at + MIN
        )
    assert error.value.field == "member_ids"


# --- service records --------------------------------------------------------------------------------------
def test_self_report_more_than_24_hours_refused(kit):
    with pytest.raises(UserError) as error:
        services.record_self_report(
            actor=kit.p.member,
            title="陪护",
            started_at=T0 - dt.timedelta(days=3),
            minutes=24 * 60 + 1,
            aspect=kit.aspect,
            photo=photo(),
            now=T0,
        )
    assert error.value.field == "minutes" and "24" in error.value.zh
    record = services.record_self_report(
        actor=kit.p.member,
        title="陪护",
        started_at=T0 - dt.timedelta(days=3),
        minutes=24 * 60,
        aspect=kit.aspect,
        photo=photo(),
        now=T0,
    )
    assert record.minutes == 1440 and record.photo.name.startswith("service-records/")


def test_self_report_future_date_refused(kit):
    for start, minutes in ((T0 + MIN, 30), (T0 - dt.timedelta(minutes=10), 11)):
        with pytest.raises(UserError) as error:
            services.record_self_report(
                actor=kit.p.member,
                title="巡逻",
                started_at=start,
                minutes=minutes,
                aspect=kit.aspect,
                photo=photo(),
                now=T0,
            )
        assert error.value.code in ("future_date", "future_end")
    services.record_self_report(
        actor=kit.p.member,
        title="巡逻",
        started_at=T0 - dt.timedelta(minutes=10),
        minutes=10,
        aspect=kit.aspect,
        photo=photo(),
        now=T0,
    )


def test_self_report_needs_photo(kit):
    with pytest.raises(UserError) as error:
        services.record_self_report(
            actor=kit.p.member,
            title="巡逻",
            started_at=T0 - dt.timedelta(hours=2),
            minutes=30,
            aspect=kit.aspect,
            photo=None,
            now=T0,
        )
    assert error.value.field == "photo"


@pytest.fixture
def award_calls(monkeypatch):
    """Record every call activities makes to the points ledger (the real ledger is tested in tests/points)."""
    import types

    calls = []
    ledger = types.SimpleNamespace(
        award_for_service=lambda **kwargs: calls.append(("award", kwargs)) or "entry",
        reverse_award=lambda **kwargs: calls.append(("reverse", kwargs)) or "reversal",
    )
    monkeypatch.setattr(records, "points_services", ledger)
    return calls


def test_verified_record_requests_award_with_exact_arguments(
    kit, award_calls, django_capture_on_commit_callbacks
):
    activity = kit.activity(difficulty=4)
    services.activity_set_beneficiaries(actor=kit.p.secretary_a, activity=activity, count=120, now=T0)
    _in(kit, activity, T0 - MIN)
    attendance = _out(kit, activity, T0 + dt.timedelta(minutes=90))
    record = attendance.service_record
    verified_at = T0 + dt.timedelta(hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_verify(actor=kit.p.secretary_a, record=record, now=verified_at)
    assert award_calls == [
        (
            "award",
            {
                "actor": kit.p.secretary_a,
                "member": kit.member,
                "source_type": "activities.servicerecord",
                "source_id": str(record.pk),
                "difficulty": 4,
                "duration_minutes": 90,
                "occurred_at": T0,
                "evidence": {
                    "title": "爱心益剪",
                    "hours": 1.5,
                    "beneficiaries": 120,
                    "aspect": "convenience",
                    "community": kit.p.tree.community_a.code,
                    "community_id": kit.p.tree.community_a.pk,
                    "record_id": record.pk,
                    "activity_id": activity.pk,
                },
                "now": verified_at,
            },
        )
    ]
    record.refresh_from_db()
    assert record.status == RecordStatus.VERIFIED
    assert Notification.objects.filter(recipient=kit.p.member, title__startswith="服务记录已认定").exists()


def test_revoking_a_verified_record_reverses_the_award(kit, award_calls):
    record = services.record_staff_enter(
        actor=kit.p.secretary_a,
        member=kit.member,
        title="助老",
        aspect=kit.aspect,
        started_at=T0 - dt.timedelta(hours=3),
        minutes=60,
        now=T0,
    )
    services.record_verify(actor=kit.p.street_admin, record=record, now=T0)
    services.record_reject(actor=kit.p.street_admin, record=record, reason="重复登记", now=T0 + MIN)
    assert [kind for kind, _ in award_calls] == ["award", "reverse"]
    assert award_calls[1][1] == {
        "actor": kit.p.street_admin,
        "source_type": "activities.servicerecord",
        "source_id": str(record.pk),
        "reason": "重复登记",
        "now": T0 + MIN,
    }
    record.refresh_from_db()
    assert record.status == RecordStatus.REVOKED and record.reason == "重复登记"


def test_rejecting_a_pending_record_needs_a_reason_and_awards_nothing(kit, award_calls):
    record = services.record_staff_enter(
        actor=kit.p.grid_leader,
        member=kit.member,
        title="巡逻",
        aspect=kit.aspect,
        started_at=T0 - dt.timedelta(hours=3),
        minutes=60,
        now=T0,
    )
    with pytest.raises(UserError) as error:
        services.record_reject(actor=kit.p.secretary_a, record=record, reason="", now=T0)
    assert error.value.field == "reason"
    services.record_reject(actor=kit.p.secretary_a, record=record, reason="照片不清楚", now=T0)
    record.refresh_from_db()
    assert record.status == RecordStatus.REJECTED and award_calls == []
    with pytest.raises(UserError):
        services.record_verify(actor=kit.p.secretary_a, record=record, now=T0)


def test_verifying_ones_own_record_forbidden(kit, award_calls):
    from kangle.accounts.services import role_assign
    from kangle.core.roles import Role

    secretary_member = make_member(kit.p.tree.community_a, user=kit.p.secretary_a, name="书记本人")
    record = services.record_staff_enter(
        actor=kit.p.street_admin,
        member=secretary_member,
        title="值守",
        aspect=kit.aspect,
        started_at=T0 - dt.timedelta(hours=3),
        minutes=60,
        now=T0,
    )
    with pytest.raises(NotAllowed) as error:
        services.record_verify(actor=kit.p.secretary_a, record=record, now=T0)
    assert "自己" in error.value.zh
    record.refresh_from_db()
    assert record.status == RecordStatus.PENDING and award_calls == []
    role_assign(actor=None, user=kit.p.member, role=Role.COMMUNITY_STAFF, org=kit.p.tree.community_a)
    own = ServiceRecord.objects.create(
        member=kit.member,
        org=kit.p.tree.community_a,
        aspect=kit.aspect,
        source=RecordSource.SELF,
        title="x",
        started_at=T0,
        minutes=30,
        created_at=T0,
    )
    from kangle.accounts.models import User

    with pytest.raises(NotAllowed):
        services.record_verify(actor=User.objects.get(pk=kit.p.member.pk), record=own, now=T0)


def test_verification_scope_and_role(kit):
    record = services.record_staff_enter(
        actor=kit.p.secretary_a,
        member=kit.member,
        title="助老",
        aspect=kit.aspect,
        started_at=T0 - dt.timedelta(hours=3),
        minutes=60,
        now=T0,
    )
    with pytest.raises(Http404):
        services.record_verify(actor=kit.p.secretary_b, record=record, now=T0)
    # Records belong to the community: outside a grid leader's grid (404); grid leaders enter, never verify.
    with pytest.raises(Http404):
        services.record_verify(actor=kit.p.grid_leader, record=record, now=T0)
    grid_record = ServiceRecord.objects.create(
        member=kit.member,
        org=kit.p.tree.grid_a,
        aspect=kit.aspect,
        source=RecordSource.STAFF,
        title="x",
        started_at=T0,
        minutes=30,
        created_at=T0,
    )
    with pytest.raises(NotAllowed):
        services.record_verify(actor=kit.p.grid_leader, record=grid_record, now=T0)


def test_verification_awards_points_once_on_the_real_ledger(kit):
    """Verified → one ledger entry under the street's rule; rejecting afterwards → one reversal."""
    from kangle.points.models import LedgerEntry

    record = services.record_staff_enter(
        actor=kit.p.secretary_a,
        member=kit.member,
        title="助老",
        aspect=kit.aspect,
        started_at=T0 - dt.timedelta(hours=3),
        minutes=120,
        now=T0,
    )
    services.record_verify(actor=kit.p.area_admin, record=record, now=T0)
    entries = LedgerEntry.objects.filter(source_type="activities.servicerecord", source_id=str(record.pk))
    assert entries.count() == 1
    award = entries.get()
    assert award.points > 0 and award.rule_version is not None
    assert services.award_request(record, actor=kit.p.area_admin, now=T0).pk == award.pk  # idempotent
    services.record_reject(actor=kit.p.area_admin, record=record, reason="重复登记", now=T0)
    assert sum(entries.values_list("points", flat=True)) == 0


def test_every_service_writes_audit(kit):
    activity = kit.activity()
    services.signup_create(actor=kit.p.member, activity=activity, now=T0 - MIN)
    _in(kit, activity, T0)
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"activity.create", "signup.create", "attendance.check_in"} <= verbs


def test_staff_signs_up_a_member_who_asked_at_the_desk(kit):
    activity = kit.activity(capacity=1)
    elder = make_member(kit.p.tree.community_a, name="老李")
    signup = services.signup_create(actor=kit.p.secretary_a, activity=activity, member=elder, now=T0 - MIN)
    assert signup.status == SignupStatus.CONFIRMED and signup.created_by == kit.p.secretary_a
    with pytest.raises(Http404):
        services.signup_create(actor=kit.p.secretary_b, activity=activity, member=elder, now=T0 - MIN)
    far = make_member(kit.p.tree.community_b, name="远处")
    with pytest.raises(UserError) as error:
        services.signup_create(actor=kit.p.secretary_a, activity=activity, member=far, now=T0 - MIN)
    assert error.value.field == "member"


def test_a_scan_links_only_the_members_own_confirmed_signup(kit):
    walk_in = kit.activity()
    attendance, created = services.attendance_scan(
        actor=kit.p.member, activity_id=walk_in.pk, token=qr.make_token(walk_in, "in", now=T0), now=T0
    )
    assert created and Attendance.objects.get(pk=attendance.pk).signup_id is None  # walked in
    cancelled = kit.activity()
    signup = services.signup_create(actor=kit.p.member, activity=cancelled, now=T0 - dt.timedelta(days=1))
    services.signup_cancel(actor=kit.p.member, signup=signup, now=T0 - dt.timedelta(hours=2))
    attendance, created = services.attendance_scan(
        actor=kit.p.member, activity_id=cancelled.pk, token=qr.make_token(cancelled, "in", now=T0), now=T0
    )
    assert created and attendance.signup_id is None  # a cancelled sign-up is not the one they came by
