"""/api/v1/activities: activities, sign-ups, check-in/out, whistle calls, responses, service records, figures.

Outside the caller's subtree is a 404; a wrong role inside it is a 403. Members act on their own file.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate

from kangle.activities import capture, permissions, qr, selectors, services
from kangle.activities.access import access_activity, access_attendee, access_call
from kangle.activities.models import (
    Activity,
    ActivityStatus,
    Attendance,
    RecordStatus,
    ServiceRecord,
    Signup,
    WhistleCall,
    WhistleResponse,
)
from kangle.core.errors import NotAllowed, UserError
from kangle.core.pagination import Listing, Pagination
from kangle.core.uploads import validate_image
from kangle.members.models import HouseholdMember, Member, Skill
from kangle.members.selectors import own_file
from kangle.orgs.models import OrgUnit, Venue
from kangle.orgs.scope import get_in_scope_or_404, scope_queryset
from kangle.posts.models import Post, PostSession, ServiceAspect

router = Router(tags=["activities"])


# --- schemas ----------------------------------------------------------------------------------------------
class ActivityOut(Schema):
    id: int
    title: str
    theme: str
    org: str
    aspect: str
    venue: str | None
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    signup_opens_at: dt.datetime | None
    confirmed: int
    beneficiary_count: int
    difficulty: int
    status: str

    @staticmethod
    def of(a: Activity) -> dict:
        return {
            "id": a.pk,
            "title": a.title,
            "theme": a.theme,
            "org": a.org.code,
            "aspect": a.aspect.code,
            "venue": a.venue.name if a.venue_id else None,
            "place": a.place,
            "starts_at": a.starts_at,
            "ends_at": a.ends_at,
            "capacity": a.capacity,
            "signup_opens_at": a.signup_opens_at,
            "confirmed": a.confirmed_count,
            "beneficiary_count": a.beneficiary_count,
            "difficulty": a.difficulty,
            "status": a.status,
        }


class ActivityIn(Schema):
    org: str
    aspect: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    theme: str = ""
    description: str = ""
    place: str = ""
    venue: int | None = None
    post: int | None = None
    difficulty: int = 1
    signup_opens_at: dt.datetime | None = None
    allows_family: bool = False


class SignupOut(Schema):
    id: int
    activity: int
    member: int
    member_name: str
    status: str
    party_org: str | None
    household_member: str | None = None
    created_at: dt.datetime

    @staticmethod
    def of(s: Signup) -> dict:
        return {
            "id": s.pk,
            "activity": s.activity_id,
            "member": s.member_id,
            "member_name": s.member.name,
            "status": s.status,
            "party_org": s.party_org.name if s.party_org_id else None,
            "household_member": s.household_member.name if s.household_member_id else None,
            "created_at": s.created_at,
        }


class ActivityTeamIn(Schema):
    member_ids: list[int]
    party_org: int | None = None


class TokenIn(Schema):
    token: str


class StaffCheckIn(Schema):
    member: int


class AttendanceOut(Schema):
    id: int
    activity: int
    member: int
    checked_in_at: dt.datetime
    checked_out_at: dt.datetime | None
    present_minutes: int
    credited: bool
    method: str

    @staticmethod
    def of(a: Attendance) -> dict:
        return {
            "id": a.pk,
            "activity": a.activity_id,
            "member": a.member_id,
            "checked_in_at": a.checked_in_at,
            "checked_out_at": a.checked_out_at,
            "present_minutes": a.present_minutes,
            "credited": a.credited,
            "method": a.check_in_method,
        }


class CountIn(Schema):
    count: int


class ActivityReasonIn(Schema):
    reason: str


class CallOut(Schema):
    id: int
    org: str
    title: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    deadline: dt.datetime
    people_needed: int
    responded: int
    status: str
    outcome: str

    @staticmethod
    def of(c: WhistleCall) -> dict:
        return {
            "id": c.pk,
            "org": c.org.code,
            "title": c.title,
            "place": c.place,
            "starts_at": c.starts_at,
            "ends_at": c.ends_at,
            "deadline": c.deadline,
            "people_needed": c.people_needed,
            "responded": c.responded_count,
            "status": c.status,
            "outcome": c.outcome,
        }


class CallIn(Schema):
    org: str
    title: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    people_needed: int
    deadline: dt.datetime
    description: str = ""
    skills: list[str] = []
    grids: list[str] = []
    aspect: str | None = None


class ResponseOut(Schema):
    id: int
    call: int
    member: int
    member_name: str
    channel: str
    party_org: str | None
    responded_at: dt.datetime
    response_seconds: int

    @staticmethod
    def of(r: WhistleResponse) -> dict:
        return {
            "id": r.pk,
            "call": r.call_id,
            "member": r.member_id,
            "member_name": r.member.name,
            "channel": r.channel,
            "party_org": r.party_org.name if r.party_org_id else None,
            "responded_at": r.responded_at,
            "response_seconds": r.response_seconds,
        }


class CollectiveIn(Schema):
    names: list[str]
    party_org: int | None = None


class GroupIn(Schema):
    member_ids: list[int]


class OutcomeIn(Schema):
    outcome: str


class RecordOut(Schema):
    id: int
    member: int
    member_name: str
    org: str
    aspect: str
    source: str
    activity: int | None
    call: int | None
    title: str
    started_at: dt.datetime
    minutes: int
    hours: float
    beneficiaries: int
    status: str
    reason: str

    @staticmethod
    def of(r: ServiceRecord) -> dict:
        return {
            "id": r.pk,
            "member": r.member_id,
            "member_name": r.member.name,
            "org": r.org.code,
            "aspect": r.aspect.code,
            "source": r.source,
            "activity": r.activity_id,
            "call": r.call_id,
            "title": r.title,
            "started_at": r.started_at,
            "minutes": r.minutes,
            "hours": r.hours,
            "beneficiaries": r.beneficiaries,
            "status": r.status,
            "reason": r.reason,
        }


class StaffRecordIn(Schema):
    member: int
    title: str
    aspect: str
    started_at: dt.datetime
    minutes: int
    beneficiaries: int = 0
    difficulty: int = 1
    activity: int | None = None
    call: int | None = None


class SelfReportIn(Schema):
    title: str
    aspect: str
    started_at: dt.datetime
    minutes: int
    beneficiaries: int = 0
    call: int | None = None


# --- helpers ----------------------------------------------------------------------------------------------
def _staff(request) -> None:
    if not permissions.is_staff(request.user):
        raise NotAllowed()


def _unit(request, code: str) -> OrgUnit:
    return get_in_scope_or_404(request.user, OrgUnit.objects.all(), "path", code=code)


def _aspect(code: str) -> ServiceAspect:
    aspect = ServiceAspect.objects.filter(code=code).first()
    if aspect is None:
        raise UserError("unknown_aspect", _("No aspect %(code)s"), field="aspect", code=code)
    return aspect


def _activity_for(request, pk: int) -> Activity:
    return access_activity(request.user, pk)


def _call_for(request, pk: int) -> WhistleCall:
    return access_call(request.user, pk)


# --- activities -------------------------------------------------------------------------------------------
@router.get("/", response=list[ActivityOut])
@paginate(Pagination, page_size=50)
def list_activities(request, status: str = ""):
    if permissions.is_staff(request.user):
        rows = selectors.activities_for(request.user)
    else:
        member = own_file(request.user)
        if member is None:
            raise NotAllowed()
        rows = selectors.activities_for_member(member)
    if status in ActivityStatus.values:
        rows = rows.filter(status=status)
    return Listing(rows.order_by("-starts_at", "-id"), row=ActivityOut.of, seek=("-starts_at", "-id"))


@router.post("/", response={201: ActivityOut})
def create_activity(request, payload: ActivityIn):
    _staff(request)
    org = _unit(request, payload.org)
    venue = (
        get_in_scope_or_404(request.user, Venue.objects.all(), pk=payload.venue) if payload.venue else None
    )
    post = get_in_scope_or_404(request.user, Post.objects.all(), pk=payload.post) if payload.post else None
    activity = services.activity_create(
        actor=request.user,
        org=org,
        aspect=_aspect(payload.aspect),
        title=payload.title,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        capacity=payload.capacity,
        venue=venue,
        post=post,
        theme=payload.theme,
        description=payload.description,
        place=payload.place,
        difficulty=payload.difficulty,
        signup_opens_at=payload.signup_opens_at,
        allows_family=payload.allows_family,
    )
    return 201, ActivityOut.of(activity)


@router.get("/figures")
def figures(request, org: str, start: dt.date, end: dt.date):
    _staff(request)
    from kangle.activities.views import period_bounds

    if end < start:
        raise UserError("end_before_start", _("The end date is before the start"), field="end")
    return selectors.figures(_unit(request, org), *period_bounds(start, end))


@router.get("/{int:pk}", response=ActivityOut)
def get_activity(request, pk: int):
    return ActivityOut.of(_activity_for(request, pk))


@router.post("/{int:pk}/beneficiaries", response=ActivityOut)
def set_beneficiaries(request, pk: int, payload: CountIn):
    _staff(request)
    activity = get_in_scope_or_404(
        request.user, Activity.objects.select_related("org", "aspect", "venue"), pk=pk
    )
    return ActivityOut.of(
        services.activity_set_beneficiaries(actor=request.user, activity=activity, count=payload.count)
    )


@router.post("/{int:pk}/cancel", response=ActivityOut)
def cancel_activity(request, pk: int, payload: ActivityReasonIn):
    _staff(request)
    activity = get_in_scope_or_404(
        request.user, Activity.objects.select_related("org", "aspect", "venue"), pk=pk
    )
    return ActivityOut.of(
        services.activity_cancel(actor=request.user, activity=activity, reason=payload.reason)
    )


@router.get("/{int:pk}/qr-token")
def qr_token(request, pk: int, action: str = "in"):
    """The current token for the venue screen (staff who manage the activity)."""
    _staff(request)
    activity = get_in_scope_or_404(request.user, Activity.objects.select_related("org"), pk=pk)
    if not permissions.can_manage_activity(request.user, activity.org):
        raise NotAllowed()
    if action not in qr.ACTIONS:
        raise UserError("invalid_action", _("action must be in or out"), field="action")
    token = qr.make_token(activity, action)
    return {"token": token, "expires_at": qr.token_expires_at(token)}


@router.get("/{int:pk}/signups", response=list[SignupOut])
@paginate(Pagination, page_size=50)
def list_signups(request, pk: int):
    _staff(request)
    activity = get_in_scope_or_404(request.user, Activity.objects.select_related("org"), pk=pk)
    return Listing(selectors.signups_of(activity), row=SignupOut.of, seek=("created_at", "id"))


@router.post("/{int:pk}/signups", response={201: SignupOut})
def sign_up(request, pk: int):
    activity = _activity_for(request, pk)
    return 201, SignupOut.of(services.signup_create(actor=request.user, activity=activity))


@router.post("/{int:pk}/team-signups", response={201: list[SignupOut]})
def team_sign_up(request, pk: int, payload: ActivityTeamIn):
    if not permissions.is_party_org_account(request.user):
        raise NotAllowed()
    activity = _activity_for(request, pk)
    signups = services.signup_team(
        actor=request.user, activity=activity, member_ids=payload.member_ids, party_org_id=payload.party_org
    )
    return 201, [SignupOut.of(s) for s in signups]


@router.post("/signups/{int:pk}/cancel", response=SignupOut)
def cancel_signup(request, pk: int):
    signup = get_object_or_404(Signup.objects.select_related("activity__org", "member", "party_org"), pk=pk)
    member = own_file(request.user)
    mine = member is not None and member.pk == signup.member_id
    theirs = signup.party_org_id is not None and signup.party_org.account_id == request.user.pk
    if not (mine or theirs) and not scope_queryset(
        request.user, Activity.objects.filter(pk=signup.activity_id)
    ):
        raise Http404
    signup = services.signup_cancel(actor=request.user, signup=signup)
    return SignupOut.of(signup)


@router.post("/{int:pk}/check-in", response={201: AttendanceOut, 200: AttendanceOut})
def check_in(request, pk: int, payload: TokenIn):
    """A member checks in with the token of the code shown at the venue: 201 with the new attendance, 200
    with the one already there for a repeat scan."""
    try:
        attendance, created = services.attendance_scan(
            actor=request.user, activity_id=pk, token=payload.token
        )
    except UserError as exc:
        if exc.code == "not_a_member":
            _activity_for(request, pk)  # an activity the actor may not see is a 404 before anything else
        raise
    return (201 if created else 200), AttendanceOut.of(attendance)


@router.post("/{int:pk}/check-out", response=AttendanceOut)
def check_out(request, pk: int, payload: TokenIn):
    activity = _activity_for(request, pk)
    return AttendanceOut.of(
        services.attendance_check_out(actor=request.user, activity=activity, token=payload.token)
    )


def _member_in_scope(request, pk: int) -> Member:
    return get_in_scope_or_404(request.user, Member.objects.select_related("org", "community"), pk=pk)


def _attendee(request, activity: Activity, member_id: int) -> Member:
    return access_attendee(request.user, activity, member_id)


@router.post("/{int:pk}/staff-check-in", response={201: AttendanceOut})
def staff_check_in(request, pk: int, payload: StaffCheckIn):
    _staff(request)
    activity = get_in_scope_or_404(request.user, Activity.objects.select_related("org"), pk=pk)
    member = _attendee(request, activity, payload.member)
    return 201, AttendanceOut.of(
        services.attendance_check_in(actor=request.user, activity=activity, member=member)
    )


@router.post("/{int:pk}/staff-check-out", response=AttendanceOut)
def staff_check_out(request, pk: int, payload: StaffCheckIn):
    _staff(request)
    activity = get_in_scope_or_404(request.user, Activity.objects.select_related("org", "aspect"), pk=pk)
    member = _attendee(request, activity, payload.member)
    return AttendanceOut.of(
        services.attendance_check_out(actor=request.user, activity=activity, member=member)
    )


@router.get("/{int:pk}/attendances", response=list[AttendanceOut])
@paginate(Pagination, page_size=50)
def list_attendances(request, pk: int):
    _staff(request)
    activity = get_in_scope_or_404(request.user, Activity.objects.select_related("org"), pk=pk)
    rows = activity.attendances.order_by("checked_in_at", "id")
    return Listing(rows, row=AttendanceOut.of, seek=("checked_in_at", "id"))


# --- whistle calls ----------------------------------------------------------------------------------------
@router.get("/calls", response=list[CallOut])
@paginate(Pagination, page_size=50)
def list_calls(request):
    if permissions.is_staff(request.user):
        rows = selectors.calls_for(request.user)
    else:
        member = own_file(request.user)
        if member is None:
            raise NotAllowed()
        rows = selectors.calls_for_member(member)
    return Listing(rows.order_by("-created_at", "-id"), row=CallOut.of, seek=("-created_at", "-id"))


@router.post("/calls", response={201: CallOut})
def create_call(request, payload: CallIn):
    _staff(request)
    org = _unit(request, payload.org)
    grids = list(OrgUnit.objects.filter(code__in=payload.grids))
    if len(grids) != len(set(payload.grids)):
        raise UserError("unknown_grid", _("A grid code does not exist"), field="grids")
    skills = list(Skill.objects.filter(code__in=payload.skills))
    if len(skills) != len(set(payload.skills)):
        raise UserError("unknown_skill", _("A skill code does not exist"), field="skills")
    call = services.call_create(
        actor=request.user,
        org=org,
        title=payload.title,
        place=payload.place,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        people_needed=payload.people_needed,
        deadline=payload.deadline,
        description=payload.description,
        skills=skills,
        grids=grids,
        aspect=_aspect(payload.aspect) if payload.aspect else None,
    )
    return 201, CallOut.of(call)


@router.get("/calls/{int:pk}")
def get_call(request, pk: int):
    call = _call_for(request, pk)
    return {**CallOut.of(call), "response_times": selectors.response_times(call)}


@router.get("/calls/{int:pk}/responses", response=list[ResponseOut])
@paginate(Pagination, page_size=50)
def list_responses(request, pk: int):
    _staff(request)
    call = _call_for(request, pk)
    rows = call.responses.select_related("member", "party_org").order_by("id")
    return Listing(rows, row=ResponseOut.of, seek=("id",))


@router.post("/calls/{int:pk}/responses", response={201: ResponseOut})
def respond(request, pk: int):
    call = _call_for(request, pk)
    response = services.response_create(actor=request.user, call=call)
    return 201, ResponseOut.of(response)


@router.post("/calls/{int:pk}/collective", response={201: list[ResponseOut]})
def respond_collectively(request, pk: int, payload: CollectiveIn):
    if not permissions.is_party_org_account(request.user):
        raise NotAllowed()
    call = _call_for(request, pk)
    fresh = services.response_collective(
        actor=request.user, call=call, names=payload.names, party_org_id=payload.party_org
    )
    return 201, [ResponseOut.of(r) for r in fresh]


@router.post("/calls/{int:pk}/group", response={201: list[ResponseOut]})
def respond_for_group(request, pk: int, payload: GroupIn):
    _staff(request)
    call = _call_for(request, pk)
    fresh = services.response_grid(actor=request.user, call=call, member_ids=payload.member_ids)
    return 201, [ResponseOut.of(r) for r in fresh]


@router.post("/calls/{int:pk}/close", response=CallOut)
def close_call(request, pk: int, payload: OutcomeIn):
    _staff(request)
    call = _call_for(request, pk)
    return CallOut.of(services.call_close(actor=request.user, call=call, outcome=payload.outcome))


# --- service records --------------------------------------------------------------------------------------
@router.get("/records", response=list[RecordOut])
@paginate(Pagination, page_size=50)
def list_records(request, status: str = ""):
    if permissions.is_staff(request.user):
        rows = selectors.records_for(request.user)
    else:
        member = own_file(request.user)
        if member is None:
            raise NotAllowed()
        rows = member.service_records.select_related("member", "aspect", "org", "activity")
    if status in RecordStatus.values:
        rows = rows.filter(status=status)
    return Listing(rows.order_by("-started_at", "-id"), row=RecordOut.of, seek=("-started_at", "-id"))


@router.post("/records", response={201: RecordOut})
def enter_record(request, payload: StaffRecordIn):
    _staff(request)
    member = _member_in_scope(request, payload.member)
    activity = (
        get_in_scope_or_404(request.user, Activity.objects.all(), pk=payload.activity)
        if payload.activity
        else None
    )
    call = _call_for(request, payload.call) if payload.call else None
    record = services.record_staff_enter(
        actor=request.user,
        member=member,
        title=payload.title,
        started_at=payload.started_at,
        minutes=payload.minutes,
        aspect=_aspect(payload.aspect),
        beneficiaries=payload.beneficiaries,
        difficulty=payload.difficulty,
        activity=activity,
        call=call,
    )
    return 201, RecordOut.of(record)


@router.post("/records/self-report", response={201: RecordOut})
def self_report(request, payload: Form[SelfReportIn], photo: File[UploadedFile] = None):
    """Multipart form: the fields and a ``photo`` file."""
    call = _call_for(request, payload.call) if payload.call else None
    content = validate_image(photo, field="photo") if photo is not None else None
    record = services.record_self_report(
        actor=request.user,
        title=payload.title,
        started_at=payload.started_at,
        minutes=payload.minutes,
        aspect=_aspect(payload.aspect),
        photo=content,
        beneficiaries=payload.beneficiaries,
        call=call,
    )
    return 201, RecordOut.of(record)


def _record_in_scope(request, pk: int) -> ServiceRecord:
    _staff(request)
    return get_in_scope_or_404(
        request.user, ServiceRecord.objects.select_related("member", "org", "aspect", "activity"), pk=pk
    )


@router.post("/records/{int:pk}/verify", response=RecordOut)
def verify_record(request, pk: int):
    return RecordOut.of(services.record_verify(actor=request.user, record=_record_in_scope(request, pk)))


@router.post("/records/{int:pk}/reject", response=RecordOut)
def reject_record(request, pk: int, payload: ActivityReasonIn):
    record = _record_in_scope(request, pk)
    return RecordOut.of(services.record_reject(actor=request.user, record=record, reason=payload.reason))


# --- service that records itself: post sessions, whistle presence, family sign-up -------------------------
class SessionAttendanceOut(Schema):
    id: int
    session: int
    post: int
    member: int
    checked_in_at: dt.datetime
    checked_out_at: dt.datetime | None
    present_minutes: int
    credited: bool
    method: str
    record: int | None

    @staticmethod
    def of(a) -> dict:
        record = getattr(a, "service_record", None) if a.credited else None
        return {
            "id": a.pk,
            "session": a.session_id,
            "post": a.session.post_id,
            "member": a.member_id,
            "checked_in_at": a.checked_in_at,
            "checked_out_at": a.checked_out_at,
            "present_minutes": a.present_minutes,
            "credited": a.credited,
            "method": a.check_in_method,
            "record": record.pk if record else None,
        }


class SessionMemberIn(Schema):
    member: int | None = None


class PresentIn(Schema):
    minutes: int | None = None
    difficulty: int = 1


class FamilyIn(Schema):
    household_member: int


def _session_for(request, pk: int) -> PostSession:
    """Staff reach sessions of posts in their subtree; members those of posts they can reach."""
    rows = PostSession.objects.select_related("post__org", "post__aspect")
    if permissions.is_staff(request.user):
        found = scope_queryset(request.user, rows, "post__org__path").filter(pk=pk).first()
        if found is not None:
            return found
    member = own_file(request.user)
    if member is not None:
        found = rows.filter(pk=pk).first()
        if found is not None and services.reaches(member, found.post.org):
            return found
    raise Http404


def _session_member(request, session: PostSession, payload: SessionMemberIn) -> Member | None:
    if payload.member is None:
        return None
    _staff(request)
    return get_in_scope_or_404(request.user, Member.objects.select_related("community"), pk=payload.member)


@router.post("/sessions/{int:pk}/check-in", response={201: SessionAttendanceOut})
def session_check_in(request, pk: int, payload: SessionMemberIn):
    """A member checks in on a session of a post they hold (staff may check someone in with ``member``)."""
    session = _session_for(request, pk)
    member = _session_member(request, session, payload)
    attendance = capture.session_check_in(actor=request.user, session=session, member=member)
    return 201, SessionAttendanceOut.of(attendance)


@router.post("/sessions/{int:pk}/check-out", response=SessionAttendanceOut)
def session_check_out(request, pk: int, payload: SessionMemberIn):
    session = _session_for(request, pk)
    member = _session_member(request, session, payload)
    return SessionAttendanceOut.of(
        capture.session_check_out(actor=request.user, session=session, member=member)
    )


@router.post("/calls/responses/{int:pk}/present", response={201: RecordOut})
def mark_present(request, pk: int, payload: PresentIn):
    """The caller marks a member who answered as present; a pending service record is made."""
    _staff(request)
    response = get_in_scope_or_404(
        request.user, WhistleResponse.objects.select_related("call__org", "member"), "call__org__path", pk=pk
    )
    record = capture.response_mark_present(
        actor=request.user, response=response, minutes=payload.minutes, difficulty=payload.difficulty
    )
    return 201, RecordOut.of(record)


@router.post("/{int:pk}/family-signups", response={201: SignupOut})
def family_sign_up(request, pk: int, payload: FamilyIn):
    """A member signs up one of their household for an activity that allows family."""
    activity = _activity_for(request, pk)
    member = own_file(request.user)
    household = HouseholdMember.objects.filter(pk=payload.household_member, member=member).first()
    if member is None or household is None:
        raise Http404
    signup = services.signup_household(actor=request.user, activity=activity, household_member=household)
    return 201, SignupOut.of(signup)
