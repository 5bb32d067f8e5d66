"""签到签退: check-in by scanning the venue's code (or by staff for someone), check-out, and the service
record a credited attendance becomes."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kangle.activities import permissions, qr, selectors
from kangle.activities.models import (
    Activity,
    ActivityStatus,
    Attendance,
    Method,
    RecordSource,
    ServiceRecord,
    Signup,
    SignupStatus,
)
from kangle.activities.services.shared import CHECK_IN_OPENS, CHECK_OUT_CLOSES, not_a_member, reaches
from kangle.core import audit
from kangle.core.errors import NotAllowed, UserError
from kangle.core.rawrows import insert_one
from kangle.core.timeutil import resolve_now
from kangle.members.constants import Status
from kangle.members.models import Member
from kangle.orgs.scope import in_scope


def _attendance_subject(
    actor, activity: Activity, member: Member | None, token: str | None, action: str, moment
):
    """Who is checking in or out, and how: the member by scanning (token) or staff for someone (member)."""
    if member is None:
        member = selectors.scanning_member(actor)
        if member is None:
            raise not_a_member()
        if not reaches(member, activity.org):
            raise Http404
        qr.check_token(activity, action, token or "", now=moment)
        return member, Method.QR
    if not in_scope(actor, activity.org.path):
        raise Http404
    if not permissions.can_manage_activity(actor, activity.org):
        raise NotAllowed()
    # Staff act only for approved members of their own subtree or signed up for this activity, whom the
    # activity reaches; every other member — missing, unapproved, elsewhere — is the same 404.
    signed_up = Signup.objects.filter(activity=activity, member=member).exists()
    if (
        member.status != Status.APPROVED
        or not (in_scope(actor, member.org.path) or signed_up)
        or not reaches(member, activity.org)
    ):
        raise Http404
    return member, Method.STAFF


def _check_in_open(activity: Activity, moment: dt.datetime) -> None:
    if activity.status != ActivityStatus.OPEN:
        raise UserError("activity_cancelled", _("The activity is cancelled"))
    if moment < activity.starts_at - CHECK_IN_OPENS:
        raise UserError("too_early", _("Check-in opens 30 minutes before the start"))
    if moment >= activity.ends_at:
        raise UserError("activity_over", _("The activity is over: check-in is closed"))


def _confirmed_signup(activity: Activity, member: Member) -> tuple[str, list]:
    """The member's own confirmed sign-up as a subquery the INSERT evaluates (no read beforehand): its SQL and
    parameters."""
    table = connection.ops.quote_name(Signup._meta.db_table)
    return (
        f"(SELECT id FROM {table} WHERE activity_id = %s AND member_id = %s"  # noqa: S608
        " AND household_member_id IS NULL AND status = %s LIMIT 1)",
        [activity.pk, member.pk, SignupStatus.CONFIRMED],
    )


def _insert_attendance(activity: Activity, member: Member, *, actor, method, moment) -> Attendance | None:
    """The attendance row and its audit event, both or neither; None when the unique (activity, member)
    constraint says the member is already in (a repeat scan, or a concurrent one that won). This is the
    write a burst of scans at the start of an activity waits on, so it is SQL made once
    (``core.rawrows``) and, on PostgreSQL, one statement: one round trip, no BEGIN or COMMIT."""
    attendance = Attendance(
        activity=activity,
        member=member,
        checked_in_at=moment,
        check_in_method=method,
        recorded_by=actor if method == Method.STAFF else None,
    )
    event = audit.event(
        actor=actor,
        verb="attendance.check_in",
        obj=attendance,
        org_path=activity.org.path,
        now=moment,
        details={"activity": activity.pk, "member": member.pk, "method": method},
    )
    written = insert_one(
        attendance,
        computed={"signup": _confirmed_signup(activity, member)},
        unless_present=("activity", "member"),
        followed_by=(event, "object_id"),
    )
    if written is not None:
        # The sign-up id was computed by the database: left deferred, it is read only if asked for.
        attendance.__dict__.pop("signup_id")
    return written


def attendance_scan(
    *, actor, activity_id: int, token: str, now: dt.datetime | None = None
) -> tuple[Attendance, bool]:
    """签到 by scanning the venue's current code: (the attendance, whether this scan made it).

    The path sees bursts at the start of an activity, so it is kept short: the member file (no personal
    data decrypted) and the activity are two indexed reads, the token is checked in memory (an HMAC), and
    the one INSERT is guarded by the unique (activity, member) constraint — a repeat scan answers with the
    row already there instead of an error. Nothing on the activity row is written. An activity the member
    does not reach, missing or cancelled is a 404, as on the member's lists."""
    moment = resolve_now(now)
    member = selectors.scanning_member(actor)
    if member is None or member.status != Status.APPROVED:
        raise not_a_member()
    activity = selectors.activity_for_scan(activity_id)
    if activity is None or activity.status != ActivityStatus.OPEN or not reaches(member, activity.org):
        raise Http404
    qr.check_token(activity, "in", token or "", now=moment)
    _check_in_open(activity, moment)
    attendance = _insert_attendance(activity, member, actor=actor, method=Method.QR, moment=moment)
    if attendance is not None:
        return attendance, True
    return _already_there(activity, member), False


def attendance_check_in(
    *,
    actor,
    activity: Activity,
    token: str | None = None,
    member: Member | None = None,
    now: dt.datetime | None = None,
) -> Attendance:
    """签到: by scanning the venue's current code, or by staff for a member without a phone. Members without a
    sign-up may walk in (the capacity limits sign-ups, not who turns up). A repeat scan returns the existing
    row; staff checking in someone already in are told so (409)."""
    moment = resolve_now(now)
    member, method = _attendance_subject(actor, activity, member, token, "in", moment)
    _check_in_open(activity, moment)
    # No "already checked in?" read first: the unique (activity, member) constraint answers that.
    attendance = _insert_attendance(activity, member, actor=actor, method=method, moment=moment)
    if attendance is None:
        if method == Method.QR:  # a repeat scan is answered with the row already there
            return _already_there(activity, member)
        raise _already_in(member)
    return attendance


def _already_there(activity: Activity, member: Member) -> Attendance:
    """The attendance a repeat scan answers with: the one the unique constraint kept this scan from adding
    (gone only if the activity was deleted meanwhile, which is a 404 like any missing activity)."""
    attendance = selectors.attendance_of(activity.pk, member.pk)
    if attendance is None:
        raise Http404
    return attendance


def _already_in(member: Member) -> UserError:
    return UserError("already_checked_in", _("%(name)s has already checked in"), status=409, name=member.name)


def present_minutes(activity: Activity, checked_in_at: dt.datetime, checked_out_at: dt.datetime) -> int:
    start = max(activity.starts_at, checked_in_at)
    end = min(activity.ends_at, checked_out_at)
    return max(0, int((end - start).total_seconds() // 60))


def _credited_record(activity: Activity, attendance: Attendance, member: Member, *, actor, moment):
    return ServiceRecord.objects.create(
        member=member,
        org=activity.org,
        aspect=activity.aspect,
        source=RecordSource.ATTENDANCE,
        activity=activity,
        attendance=attendance,
        title=activity.title,
        started_at=max(activity.starts_at, attendance.checked_in_at),
        minutes=min(attendance.present_minutes, 1440),
        difficulty=activity.difficulty,
        created_by=actor,
        created_at=moment,
    )


def attendance_check_out(
    *,
    actor,
    activity: Activity,
    token: str | None = None,
    member: Member | None = None,
    now: dt.datetime | None = None,
) -> Attendance:
    """签退: time present is the overlap with the activity's time; at least the configured share of it
    (KANGLE_ATTENDANCE_CREDIT_PERCENT, default 60%) is credited and becomes a service record to verify."""
    moment = resolve_now(now)
    member, method = _attendance_subject(actor, activity, member, token, "out", moment)
    if moment > activity.ends_at + CHECK_OUT_CLOSES:
        raise UserError("check_out_closed", _("Check-out closed 2 hours after the end"))
    with transaction.atomic():
        attendance = Attendance.objects.select_for_update().filter(activity=activity, member=member).first()
        if attendance is None:
            raise UserError(
                "not_checked_in",
                _("%(name)s has not checked in: cannot check out"),
                status=409,
                name=member.name,
            )
        if attendance.checked_out_at is not None:
            raise UserError(
                "already_checked_out", _("%(name)s has already checked out"), status=409, name=member.name
            )
        attendance.checked_out_at = moment
        attendance.check_out_method = method
        attendance.present_minutes = present_minutes(activity, attendance.checked_in_at, moment)
        needed = activity.duration_minutes * settings.KANGLE_ATTENDANCE_CREDIT_RATIO
        attendance.credited = attendance.present_minutes >= needed and attendance.present_minutes > 0
        attendance.save(update_fields=["checked_out_at", "check_out_method", "present_minutes", "credited"])
        record = None
        if attendance.credited:
            record = _credited_record(activity, attendance, member, actor=actor, moment=moment)
        audit.record(
            actor=actor,
            verb="attendance.check_out",
            obj=attendance,
            org_path=activity.org.path,
            now=moment,
            details={
                "minutes": attendance.present_minutes,
                "credited": attendance.credited,
                "record": record.pk if record else None,
            },
        )
    return attendance
