"""Service that records itself: a claimed post's sessions checked in and out, and whistle answers the caller
marks present, each becoming a pending service record that the community verifies like any other (the
same points rule and caps, through ``services.record_verify``)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kangle.activities import permissions
from kangle.activities.models import (
    Method,
    RecordSource,
    ServiceRecord,
    SessionAttendance,
    WhistleResponse,
)
from kangle.activities.services.shared import (
    CHECK_IN_OPENS,
    CHECK_OUT_CLOSES,
    member_approved_of,
    member_notify,
)
from kangle.core import audit, cleaners
from kangle.core.errors import NotAllowed, UserError
from kangle.core.timeutil import resolve_now
from kangle.members.constants import Status
from kangle.members.models import Member
from kangle.orgs.scope import in_scope
from kangle.posts.models import Claim, ClaimStatus, PostSession


# --- post sessions ----------------------------------------------------------------------------------------
def _session_subject(actor, session: PostSession, member: Member | None) -> tuple[Member, str]:
    """The member checking in themselves, or staff of the post's unit checking someone in."""
    if member is None:
        return member_approved_of(actor), Method.SELF
    if not in_scope(actor, session.post.org.path):
        raise Http404
    if not permissions.can_manage_activity(actor, session.post.org):
        raise NotAllowed()
    if member.status != Status.APPROVED:
        raise UserError("not_a_member", _("Not an approved member"), field="member")
    return member, Method.STAFF


def _claim_of(member: Member, session: PostSession) -> Claim:
    claim = Claim.objects.filter(post=session.post_id, member=member, status=ClaimStatus.CONFIRMED).first()
    if claim is None:
        raise UserError(
            "not_claimed",
            _("%(name)s holds no confirmed claim on the post '%(title)s': cannot check in"),
            field="member",
            status=409,
            name=member.name,
            title=session.post.title,
        )
    return claim


def session_check_in(
    *, actor, session: PostSession, member: Member | None = None, now: dt.datetime | None = None
) -> SessionAttendance:
    """签到 on a post session: only for a member who holds the post; opens 30 minutes before the start."""
    moment = resolve_now(now)
    member, method = _session_subject(actor, session, member)
    claim = _claim_of(member, session)
    if moment < session.starts_at - CHECK_IN_OPENS:
        raise UserError("too_early", pgettext_lazy("too_early", "Check-in opens 30 minutes before the start"))
    if moment >= session.ends_at:
        raise UserError("session_over", _("The session is over: check-in is closed"))
    try:
        with transaction.atomic():
            attendance = SessionAttendance.objects.create(
                session=session,
                claim=claim,
                member=member,
                checked_in_at=moment,
                check_in_method=method,
                recorded_by=actor if method == Method.STAFF else None,
            )
            audit.record(
                actor=actor,
                verb="attendance.session_check_in",
                obj=attendance,
                org_path=session.post.org.path,
                now=moment,
                details={"session": session.pk, "member": member.pk, "method": method},
            )
    except IntegrityError:
        raise UserError(
            "already_checked_in", _("%(name)s has already checked in"), status=409, name=member.name
        ) from None
    return attendance


def session_check_out(
    *, actor, session: PostSession, member: Member | None = None, now: dt.datetime | None = None
) -> SessionAttendance:
    """签退: the overlap with the session is the time served; the same credited share as activities
    (KANGLE_ATTENDANCE_CREDIT_RATIO) makes it a pending service record."""
    moment = resolve_now(now)
    member, method = _session_subject(actor, session, member)
    if moment > session.ends_at + CHECK_OUT_CLOSES:
        raise UserError(
            "check_out_closed", pgettext_lazy("check_out_closed", "Check-out closed 2 hours after the end")
        )
    post = session.post
    with transaction.atomic():
        attendance = (
            SessionAttendance.objects.select_for_update().filter(session=session, member=member).first()
        )
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
        start = max(session.starts_at, attendance.checked_in_at)
        end = min(session.ends_at, moment)
        minutes = max(0, int((end - start).total_seconds() // 60))
        length = int((session.ends_at - session.starts_at).total_seconds() // 60)
        attendance.checked_out_at = moment
        attendance.check_out_method = method
        attendance.present_minutes = minutes
        attendance.credited = minutes > 0 and minutes >= length * settings.KANGLE_ATTENDANCE_CREDIT_RATIO
        attendance.save(update_fields=["checked_out_at", "check_out_method", "present_minutes", "credited"])
        record = None
        if attendance.credited:
            record = ServiceRecord.objects.create(
                member=member,
                org=post.org,
                aspect=post.aspect,
                source=RecordSource.SESSION,
                session_attendance=attendance,
                title=post.title[:100],
                started_at=start,
                minutes=min(minutes, 1440),
                difficulty=min(max(post.difficulty, 1), 5),
                created_by=actor,
                created_at=moment,
            )
        audit.record(
            actor=actor,
            verb="attendance.session_check_out",
            obj=attendance,
            org_path=post.org.path,
            now=moment,
            details={
                "minutes": minutes,
                "credited": attendance.credited,
                "record": record.pk if record else None,
            },
        )
    return attendance


# --- whistle calls ----------------------------------------------------------------------------------------
def response_mark_present(
    *,
    actor,
    response: WhistleResponse,
    minutes: int | None = None,
    difficulty: int = 1,
    now: dt.datetime | None = None,
) -> ServiceRecord:
    """The caller marks a member who answered as present: the answer becomes a pending service record of
    the call's length (or ``minutes``), verified like any other."""
    moment = resolve_now(now)
    call = response.call
    if not in_scope(actor, call.org.path):
        raise Http404
    if not permissions.can_blow_whistle(actor, call.org):
        raise NotAllowed(_("Only whoever blew the whistle can mark people present"))
    if moment < call.starts_at:
        raise UserError(
            "call_not_started", _("The call has not started yet: nobody can be marked present"), status=409
        )
    if call.aspect_id is None:
        raise UserError(
            "call_without_aspect",
            _("The call has no service aspect, so no service record can be made; set one first"),
            field="aspect",
        )
    length = max(1, int((call.ends_at - call.starts_at).total_seconds() // 60))
    minutes = cleaners.whole_number(
        length if minutes is None else minutes,
        field="minutes",
        label=_("Duration in minutes"),
        low=1,
        high=1440,
    )
    difficulty = cleaners.whole_number(difficulty, field="difficulty", label=_("Difficulty"), low=1, high=5)
    with transaction.atomic():
        locked = WhistleResponse.objects.select_for_update().select_related("member").get(pk=response.pk)
        if locked.present_at is not None:
            raise UserError(
                "already_present",
                _("%(name)s is already marked present"),
                status=409,
                name=locked.member.name,
            )
        WhistleResponse.objects.filter(pk=locked.pk).update(present_at=moment, marked_present_by=actor)
        record = ServiceRecord.objects.create(
            member=locked.member,
            org=call.org,
            aspect=call.aspect,
            source=RecordSource.WHISTLE,
            call=call,
            whistle_response=locked,
            title=call.title[:100],
            started_at=call.starts_at,
            minutes=minutes,
            difficulty=difficulty,
            created_by=actor,
            created_at=moment,
        )
        audit.record(
            actor=actor,
            verb="call.response_present",
            obj=locked,
            org_path=call.org.path,
            now=moment,
            details={"call": call.pk, "member": locked.member_id, "record": record.pk, "minutes": minutes},
        )
        member_notify(
            locked.member,
            _("Attendance confirmed: %(title)s"),
            _("The service record awaits the community's verification"),
            reverse("activities:my-records"),
            moment,
            {"title": call.title},
        )
    return record
