"""Every write of activities, whistle calls and service records.

Each service checks permission, locks what it must, writes, records its audit event and defers
notifications with ``transaction.on_commit``. Capacity and the waiting list are kept under a row lock on the
activity, so they hold exactly under concurrency; duplicates (a second check-in, a second answer) are
refused by unique constraints, which also hold under concurrency.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.urls import reverse

from kangle.activities import permissions, qr
from kangle.activities.models import (
    ACTIVE_SIGNUP_STATUSES,
    Activity,
    ActivityStatus,
    Attendance,
    CallStatus,
    Method,
    RecordSource,
    RecordStatus,
    ResponseChannel,
    ServiceRecord,
    Signup,
    SignupStatus,
    WhistleCall,
    WhistleResponse,
)
from kangle.core import audit
from kangle.core.errors import NotAllowed, UserError
from kangle.core.text import normalise_text
from kangle.core.timeutil import local, resolve_now
from kangle.core.uploads import ValidatedImage
from kangle.members.access import access_members, refused
from kangle.members.constants import Status
from kangle.members.models import EmployerPartyOrg, HouseholdMember, Member, Skill
from kangle.notify.services import after_commit, notify_user
from kangle.orgs.models import OrgKind, OrgUnit, Venue
from kangle.orgs.scope import in_scope
from kangle.orgs.selectors import subtree_q
from kangle.points import services as points_services
from kangle.posts.models import Post, ServiceAspect

# The ledger's name for a service record (points.services: source_type / source_id).
AWARD_SOURCE_TYPE = "activities.servicerecord"
# Check-in opens this long before an activity starts; check-out stays open this long after it ends.
CHECK_IN_OPENS = dt.timedelta(minutes=30)
CHECK_OUT_CLOSES = dt.timedelta(hours=2)
MAX_SELF_REPORT_MINUTES = 24 * 60


# --- helpers ----------------------------------------------------------------------------------------------
def own_member(user) -> Member | None:
    from kangle.members.selectors import own_file

    return own_file(user)


def _approved_member_of(actor) -> Member:
    member = own_member(actor)
    if member is None or member.status != Status.APPROVED:
        raise UserError(
            "not_a_member",
            "只有已通过审核的在职党员才能这样做",
            "Only approved members can do this",
            status=403,
        )
    return member


def _tell(member: Member, title: str, body: str, link: str, moment: dt.datetime) -> None:
    if member.user_id:
        after_commit(
            notify_user, recipient=member.user, title=title, body=body, link=link, sms=True, now=moment
        )


def _tell_user(user, title: str, body: str, link: str, moment: dt.datetime) -> None:
    if user is not None:
        after_commit(notify_user, recipient=user, title=title, body=body, link=link, sms=False, now=moment)


def _aware(value, field: str, zh: str, en: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise UserError(
            "invalid_time", f"{zh}必须是带时区的时间", f"{en} must be a date and time", field=field
        )
    return value


def _int_in(value, field: str, zh: str, en: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UserError(
            "invalid_number", f"{zh}必须是整数", f"{en} must be a whole number", field=field
        ) from None
    if not low <= number <= high:
        raise UserError(
            "out_of_range",
            f"{zh}应在 {low} 到 {high} 之间",
            f"{en} must be between {low} and {high}",
            field=field,
        )
    return number


def _text(value, field: str, zh: str, en: str, *, max_length: int, required: bool = True) -> str:
    text = normalise_text(value)
    if required and not text:
        raise UserError("required", f"请填写{zh}", f"{en} is required", field=field)
    if len(text) > max_length:
        raise UserError(
            "too_long",
            f"{zh}不能超过 {max_length} 个字",
            f"{en} must be at most {max_length} characters",
            field=field,
        )
    return text


def _scanning_member(actor) -> Member:
    """The approved member scanning a code: the same file as ``own_member``, read without its personal
    data (nothing is decrypted on the check-in path, which sees bursts at the start of an activity)."""
    member = None
    if getattr(actor, "is_authenticated", False):
        member = (
            Member.objects.filter(user=actor)
            .select_related("community")
            .only("pk", "name", "status", "user_id", "community_id", "community__path")
            .order_by(F("left_at").desc(nulls_first=True), "-registered_at")
            .first()
        )
    if member is None or member.status != Status.APPROVED:
        raise _not_a_member()
    return member


def _not_a_member() -> UserError:
    return UserError(
        "not_a_member",
        "只有已通过审核的在职党员才能这样做",
        "Only approved members can do this",
        status=403,
    )


def _reaches(member: Member, org: OrgUnit) -> bool:
    """A member reaches what is organised in their community or above it (area, street), and what is
    organised inside their community (a grid's call)."""
    community_path = member.community.path
    return community_path.startswith(org.path) or org.path.startswith(community_path)


reaches = _reaches  # for the access helpers (kangle.activities.access)


# --- points -----------------------------------------------------------------------------------------------
def award_evidence(record: ServiceRecord) -> dict:
    beneficiaries = record.beneficiaries
    if not beneficiaries and record.activity_id:
        beneficiaries = record.activity.beneficiary_count
    evidence = {
        "title": record.title,
        "hours": record.hours,
        "beneficiaries": int(beneficiaries),
        "aspect": record.aspect.code,
        "community": record.member.community.code,
        "community_id": record.member.community_id,
        "record_id": record.pk,
    }
    if record.activity_id:
        evidence["activity_id"] = record.activity_id
    if record.call_id:
        evidence["call_id"] = record.call_id
    return evidence


def request_award(record: ServiceRecord, *, actor, now: dt.datetime | None = None):
    """Ask the points ledger for this verified record's award — the one place activities meets points.

    The ledger's idempotency key (source type + record id) makes a repeated call harmless; a refusal by the
    ledger (no rule in force, say) raises, and the verification around it is rolled back with it."""
    return points_services.award_for_service(
        actor=actor,
        member=record.member,
        source_type=AWARD_SOURCE_TYPE,
        source_id=str(record.pk),
        difficulty=record.difficulty,
        duration_minutes=record.minutes,
        occurred_at=record.started_at,
        evidence=award_evidence(record),
        now=now,
    )


def request_reversal(record: ServiceRecord, *, actor, reason: str, now: dt.datetime | None = None):
    """Undo the award of a record that was verified and is now rejected or revoked."""
    return points_services.reverse_award(
        actor=actor, source_type=AWARD_SOURCE_TYPE, source_id=str(record.pk), reason=reason, now=now
    )


# --- activities -------------------------------------------------------------------------------------------
def activity_create(
    *,
    actor,
    org: OrgUnit,
    aspect: ServiceAspect,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    venue: Venue | None = None,
    post: Post | None = None,
    theme: str = "",
    description: str = "",
    place: str = "",
    difficulty: int = 1,
    signup_opens_at: dt.datetime | None = None,
    allows_family: bool = False,
    now: dt.datetime | None = None,
) -> Activity:
    moment = resolve_now(now)
    if not in_scope(actor, org.path):
        raise Http404
    if not permissions.can_manage_activity(actor, org):
        raise NotAllowed()
    title = _text(title, "title", "活动名称", "Title", max_length=100)
    theme = _text(theme, "theme", "主题", "Theme", max_length=50, required=False)
    place = _text(place, "place", "地点", "Place", max_length=200, required=False)
    starts_at = _aware(starts_at, "starts_at", "开始时间", "Start")
    ends_at = _aware(ends_at, "ends_at", "结束时间", "End")
    if ends_at <= starts_at:
        raise UserError(
            "ends_before_start",
            "结束时间必须晚于开始时间",
            "The end must be after the start",
            field="ends_at",
        )
    capacity = _int_in(capacity, "capacity", "名额", "Capacity", 1, 10000)
    difficulty = _int_in(difficulty, "difficulty", "难度", "Difficulty", 1, 5)
    if signup_opens_at is not None:
        signup_opens_at = _aware(signup_opens_at, "signup_opens_at", "报名开始时间", "Sign-up opening")
        if signup_opens_at >= starts_at:
            raise UserError(
                "signup_opens_too_late",
                "报名开始时间必须早于活动开始时间",
                "Sign-up must open before the activity starts",
                field="signup_opens_at",
            )
    if not aspect.is_active:
        raise UserError("aspect_retired", "该服务方面已停用", "This aspect is retired", field="aspect")
    if venue is not None and not (venue.org.path.startswith(org.path) or org.path.startswith(venue.org.path)):
        raise UserError(
            "venue_outside", "场所不在该组织范围内", "The venue is outside this unit", field="venue"
        )
    if post is not None and not in_scope(actor, post.org.path):
        raise UserError(
            "post_outside", "岗位不在您的管辖范围内", "The post is outside your scope", field="post"
        )
    with transaction.atomic():
        activity = Activity.objects.create(
            org=org,
            aspect=aspect,
            post=post,
            venue=venue,
            title=title,
            theme=theme,
            description=description,
            place=place or (venue.address if venue else ""),
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=capacity,
            difficulty=difficulty,
            signup_opens_at=signup_opens_at,
            allows_family=bool(allows_family),
            created_by=actor,
            created_at=moment,
        )
        audit.record(
            actor=actor,
            verb="activities.activity_create",
            obj=activity,
            now=moment,
            details={"title": title, "starts_at": starts_at.isoformat(), "capacity": capacity},
        )
    return activity


def activity_set_beneficiaries(
    *, actor, activity: Activity, count: int, now: dt.datetime | None = None
) -> Activity:
    """惠及群众人次: how many residents the activity served, entered by the organiser."""
    moment = resolve_now(now)
    if not in_scope(actor, activity.org.path):
        raise Http404
    if not permissions.can_manage_activity(actor, activity.org):
        raise NotAllowed()
    count = _int_in(count, "beneficiary_count", "惠及群众人次", "Beneficiaries", 0, 100000)
    with transaction.atomic():
        before = activity.beneficiary_count
        Activity.objects.filter(pk=activity.pk).update(beneficiary_count=count)
        activity.beneficiary_count = count
        audit.record(
            actor=actor,
            verb="activities.beneficiaries_set",
            obj=activity,
            now=moment,
            details={"from": before, "to": count},
        )
    return activity


def activity_cancel(*, actor, activity: Activity, reason: str, now: dt.datetime | None = None) -> Activity:
    moment = resolve_now(now)
    if not in_scope(actor, activity.org.path):
        raise Http404
    if not permissions.can_manage_activity(actor, activity.org):
        raise NotAllowed()
    reason = _text(reason, "reason", "取消原因", "Reason", max_length=300)
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        if locked.status == ActivityStatus.CANCELLED:
            raise UserError("already_cancelled", "活动已取消", "The activity is already cancelled")
        locked.status = ActivityStatus.CANCELLED
        locked.save(update_fields=["status"])
        for signup in locked.signups.filter(status__in=ACTIVE_SIGNUP_STATUSES).select_related("member"):
            _tell(signup.member, f"活动取消：{locked.title}", reason, _member_link(locked), moment)
        audit.record(
            actor=actor, verb="activities.activity_cancel", obj=locked, details={"reason": reason}, now=moment
        )
    return locked


def _member_link(activity: Activity) -> str:
    return reverse("activities:phone-detail", args=[activity.pk])


def _when(activity: Activity) -> str:
    return f"{local(activity.starts_at):%m月%d日 %H:%M}"


def _lock_open(activity: Activity, moment: dt.datetime) -> Activity:
    locked = Activity.objects.select_for_update().get(pk=activity.pk)
    if locked.status != ActivityStatus.OPEN:
        raise UserError("activity_cancelled", "活动已取消", "The activity is cancelled")
    if moment >= locked.starts_at:
        raise UserError(
            "signup_closed", "活动已开始，报名已截止", "The activity has started: sign-up is closed"
        )
    return locked


def _place(locked: Activity, member: Member, *, actor, party_org, moment) -> Signup:
    if Signup.objects.filter(
        activity=locked, member=member, household_member__isnull=True, status__in=ACTIVE_SIGNUP_STATUSES
    ).exists():
        raise UserError(
            "already_signed_up",
            f"{member.name} 已报名该活动",
            f"{member.name} has already signed up",
            field="member",
        )
    confirmed = locked.confirmed_count < locked.capacity
    signup = Signup.objects.create(
        activity=locked,
        member=member,
        party_org=party_org,
        created_by=actor,
        created_at=moment,
        status=SignupStatus.CONFIRMED if confirmed else SignupStatus.WAITLISTED,
    )
    if confirmed:
        locked.confirmed_count += 1
    return signup


def signup_create(
    *, actor, activity: Activity, member: Member | None = None, now: dt.datetime | None = None
) -> Signup:
    """A member signs up; past the capacity they go on the waiting list. Staff may sign up a member who
    asked at the desk or by telephone (``member``)."""
    moment = resolve_now(now)
    if member is None:
        member = _scanning_member(actor)
        if not _reaches(member, activity.org):
            raise Http404
    else:
        if not in_scope(actor, activity.org.path):
            raise Http404
        if not permissions.can_manage_activity(actor, activity.org):
            raise NotAllowed()
        if member.status != Status.APPROVED or not _reaches(member, activity.org):
            raise UserError(
                "not_a_member",
                f"{member.name} 不是可参加该活动的已报到党员",
                f"{member.name} is not an approved member who can join this activity",
                field="member",
            )
    _check_signup_window(activity, member, moment)
    with transaction.atomic():
        locked = _lock_open(activity, moment)
        signup = _place(locked, member, actor=actor, party_org=None, moment=moment)
        Activity.objects.filter(pk=locked.pk).update(confirmed_count=locked.confirmed_count)
        audit.record(
            actor=actor,
            verb="activities.signup_create",
            obj=signup,
            org_path=locked.org.path,
            now=moment,
            details={"activity": locked.pk, "status": signup.status, "member": member.pk},
        )
        _tell_signup(signup, locked, moment)
    return signup


def signup_household(
    *, actor, activity: Activity, household_member: HouseholdMember, now: dt.datetime | None = None
) -> Signup:
    """A member signs up one of their household (家庭成员) for an activity that allows family. The place
    counts against the capacity like any other; the member's points give the same early window."""
    moment = resolve_now(now)
    member = _approved_member_of(actor)
    if household_member.member_id != member.pk:
        raise Http404
    if not _reaches(member, activity.org):
        raise Http404
    if not activity.allows_family:
        raise UserError(
            "family_not_allowed",
            "该活动不接受家庭成员报名",
            "This activity does not take family members",
            field="household_member",
        )
    _check_signup_window(activity, member, moment)
    with transaction.atomic():
        locked = _lock_open(activity, moment)
        if Signup.objects.filter(
            activity=locked, household_member=household_member, status__in=ACTIVE_SIGNUP_STATUSES
        ).exists():
            raise UserError(
                "already_signed_up",
                f"{household_member.name} 已报名该活动",
                f"{household_member.name} has already signed up",
                field="household_member",
            )
        confirmed = locked.confirmed_count < locked.capacity
        signup = Signup.objects.create(
            activity=locked,
            member=member,
            household_member=household_member,
            created_by=actor,
            created_at=moment,
            status=SignupStatus.CONFIRMED if confirmed else SignupStatus.WAITLISTED,
        )
        if confirmed:
            Activity.objects.filter(pk=locked.pk).update(confirmed_count=F("confirmed_count") + 1)
        audit.record(
            actor=actor,
            verb="activities.signup_household",
            obj=signup,
            org_path=locked.org.path,
            now=moment,
            details={"activity": locked.pk, "status": signup.status, "household_member": household_member.pk},
        )
        _tell_signup(signup, locked, moment)
    return signup


def _check_signup_window(activity: Activity, member: Member, moment: dt.datetime) -> None:
    """Before sign-up opens for everyone, only those whose points earn an early window may sign up."""
    if activity.signup_opens_at is None or moment >= activity.signup_opens_at:
        return
    opens = points_services.signup_opens_at(
        member_or_household=member, base_opens_at=activity.signup_opens_at, now=moment, org=activity.org
    )
    if moment < opens:
        raise UserError(
            "signup_not_open",
            f"报名尚未开始，{member.name} 可于 {local(opens):%m月%d日 %H:%M} 起报名",
            f"Sign-up has not opened yet; {member.name} may sign up from {local(opens):%Y-%m-%d %H:%M}",
            field="activity",
            status=409,
        )


def _tell_signup(signup: Signup, activity: Activity, moment) -> None:
    if signup.status == SignupStatus.CONFIRMED:
        _tell(
            signup.member,
            f"报名成功：{activity.title}",
            f"{_when(activity)} {activity.place}",
            _member_link(activity),
            moment,
        )
    else:
        _tell(
            signup.member,
            f"已进入候补：{activity.title}",
            "名额已满，有人取消时将按顺序递补并通知您",
            _member_link(activity),
            moment,
        )


def party_org_of(actor, party_org_id: int | None = None) -> EmployerPartyOrg:
    if not permissions.is_party_org_account(actor):
        raise NotAllowed(
            "只有单位党组织账号才能这样做", "Only an employer Party organisation's account can do this"
        )
    orgs = list(EmployerPartyOrg.objects.filter(account=actor).order_by("pk"))
    if party_org_id is not None:
        chosen = [org for org in orgs if org.pk == party_org_id]
        if not chosen:
            raise Http404
        return chosen[0]
    if not orgs:
        raise Http404
    if len(orgs) > 1:
        # An account serving several branches says which one it acts for; guessing would report members
        # under the wrong branch.
        raise UserError(
            "party_org_required",
            "此账号管理多个党组织，请选择以哪个党组织的名义办理",
            "This account serves several Party organisations: choose the one you act for",
            field="party_org",
        )
    return orgs[0]


def team_signup(
    *,
    actor,
    activity: Activity,
    member_ids: Iterable[int],
    party_org_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[Signup]:
    """An employer Party organisation signs up a team of its members.

    All or none: every problem is listed."""
    moment = resolve_now(now)
    party_org = party_org_of(actor, party_org_id)
    ids = list(dict.fromkeys(int(pk) for pk in member_ids))
    if not ids:
        raise UserError("empty_team", "请至少选择一名党员", "Choose at least one member", field="member_ids")
    members = {
        m.pk: m for m in Member.objects.filter(pk__in=ids, party_org=party_org).select_related("community")
    }
    problems = []
    for pk in ids:
        member = members.get(pk)
        if member is None or member.status != Status.APPROVED:
            problems.append(f"#{pk}")
        elif not _reaches(member, activity.org):
            problems.append(member.name)
    if problems:
        names = "、".join(problems)
        raise UserError(
            "team_invalid",
            f"以下人员不是本单位已报到且可参加该活动的党员：{names}",
            f"Not approved members of your organisation who can join this activity: {names}",
            field="member_ids",
        )
    for pk in ids:
        _check_signup_window(activity, members[pk], moment)
    with transaction.atomic():
        locked = _lock_open(activity, moment)
        signups = [_place(locked, members[pk], actor=actor, party_org=party_org, moment=moment) for pk in ids]
        Activity.objects.filter(pk=locked.pk).update(confirmed_count=locked.confirmed_count)
        audit.record(
            actor=actor,
            verb="activities.team_signup",
            obj=locked,
            now=moment,
            details={"party_org": party_org.pk, "members": ids},
        )
        for signup in signups:
            _tell_signup(signup, locked, moment)
    return signups


def signup_cancel(*, actor, signup: Signup, now: dt.datetime | None = None) -> Signup:
    """Cancel a sign-up (the member, the team's Party organisation or the organiser). A freed place goes to
    the first on the waiting list, under the same row lock."""
    moment = resolve_now(now)
    activity = signup.activity
    member = own_member(actor)
    by_member = member is not None and member.pk == signup.member_id
    by_party_org = signup.party_org_id is not None and signup.party_org.account_id == getattr(
        actor, "pk", None
    )
    if not (by_member or by_party_org):
        if not in_scope(actor, activity.org.path):
            raise Http404
        if not permissions.can_manage_activity(actor, activity.org):
            raise NotAllowed()
    with transaction.atomic():
        locked_activity = Activity.objects.select_for_update().get(pk=activity.pk)
        locked = Signup.objects.select_for_update().get(pk=signup.pk)
        if locked.status == SignupStatus.CANCELLED:
            raise UserError("already_cancelled", "该报名已取消", "This sign-up is already cancelled")
        was_confirmed = locked.status == SignupStatus.CONFIRMED
        locked.status = SignupStatus.CANCELLED
        locked.cancelled_at = moment
        locked.save(update_fields=["status", "cancelled_at"])
        promoted = None
        if was_confirmed:
            promoted = (
                Signup.objects.select_for_update()
                .filter(activity=locked_activity, status=SignupStatus.WAITLISTED)
                .order_by("created_at", "id")
                .first()
            )
            if promoted is not None and moment < locked_activity.starts_at:
                promoted.status = SignupStatus.CONFIRMED
                promoted.promoted_at = moment
                promoted.save(update_fields=["status", "promoted_at"])
                _tell(
                    promoted.member,
                    f"候补成功：{locked_activity.title}",
                    f"有人取消报名，您已递补成功。{_when(locked_activity)} {locked_activity.place}",
                    _member_link(locked_activity),
                    moment,
                )
            else:
                promoted = None
                Activity.objects.filter(pk=locked_activity.pk).update(
                    confirmed_count=F("confirmed_count") - 1
                )
        audit.record(
            actor=actor,
            verb="activities.signup_cancel",
            obj=locked,
            org_path=locked_activity.org.path,
            now=moment,
            details={"activity": locked_activity.pk, "promoted": promoted.pk if promoted else None},
        )
    return locked


# --- check-in and check-out -------------------------------------------------------------------------------
def _attendance_subject(
    actor, activity: Activity, member: Member | None, token: str | None, action: str, moment
):
    """Who is checking in or out, and how: the member by scanning (token) or staff for someone (member)."""
    if member is None:
        member = _scanning_member(actor)
        if not _reaches(member, activity.org):
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
        or not _reaches(member, activity.org)
    ):
        raise Http404
    return member, Method.STAFF


def attendance_check_in(
    *,
    actor,
    activity: Activity,
    token: str | None = None,
    member: Member | None = None,
    now: dt.datetime | None = None,
) -> Attendance:
    """签到: by scanning the venue's current code, or by staff for a member without a phone. Members without a
    sign-up may walk in (the capacity limits sign-ups, not who turns up)."""
    moment = resolve_now(now)
    member, method = _attendance_subject(actor, activity, member, token, "in", moment)
    if activity.status != ActivityStatus.OPEN:
        raise UserError("activity_cancelled", "活动已取消", "The activity is cancelled")
    if moment < activity.starts_at - CHECK_IN_OPENS:
        raise UserError(
            "too_early", "签到尚未开始（活动开始前30分钟开放）", "Check-in opens 30 minutes before the start"
        )
    if moment >= activity.ends_at:
        raise UserError("activity_over", "活动已结束，不能签到", "The activity is over: check-in is closed")
    # No "already checked in?" read first: the unique (activity, member) constraint answers that below.
    signup = (
        Signup.objects.filter(
            activity=activity, member=member, household_member__isnull=True, status=SignupStatus.CONFIRMED
        )
        .only("pk")
        .first()
    )
    try:
        with transaction.atomic():
            attendance = Attendance.objects.create(
                activity=activity,
                member=member,
                signup=signup,
                checked_in_at=moment,
                check_in_method=method,
                recorded_by=actor if method == Method.STAFF else None,
            )
            audit.record(
                actor=actor,
                verb="activities.check_in",
                obj=attendance,
                org_path=activity.org.path,
                now=moment,
                details={"activity": activity.pk, "member": member.pk, "method": method},
            )
    except IntegrityError:
        # A concurrent scan of the same person won the unique constraint.
        raise _already_in(member) from None
    return attendance


def _already_in(member: Member) -> UserError:
    return UserError(
        "already_checked_in",
        f"{member.name} 已签到，无需重复签到",
        f"{member.name} has already checked in",
        status=409,
    )


def present_minutes(activity: Activity, checked_in_at: dt.datetime, checked_out_at: dt.datetime) -> int:
    start = max(activity.starts_at, checked_in_at)
    end = min(activity.ends_at, checked_out_at)
    return max(0, int((end - start).total_seconds() // 60))


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
        raise UserError(
            "check_out_closed", "签退已截止（活动结束后2小时内）", "Check-out closed 2 hours after the end"
        )
    with transaction.atomic():
        attendance = Attendance.objects.select_for_update().filter(activity=activity, member=member).first()
        if attendance is None:
            raise UserError(
                "not_checked_in",
                f"{member.name} 尚未签到，不能签退",
                f"{member.name} has not checked in: cannot check out",
                status=409,
            )
        if attendance.checked_out_at is not None:
            raise UserError(
                "already_checked_out",
                f"{member.name} 已签退",
                f"{member.name} has already checked out",
                status=409,
            )
        attendance.checked_out_at = moment
        attendance.check_out_method = method
        attendance.present_minutes = present_minutes(activity, attendance.checked_in_at, moment)
        needed = activity.duration_minutes * settings.KANGLE_ATTENDANCE_CREDIT_RATIO
        attendance.credited = attendance.present_minutes >= needed and attendance.present_minutes > 0
        attendance.save(update_fields=["checked_out_at", "check_out_method", "present_minutes", "credited"])
        record = None
        if attendance.credited:
            record = ServiceRecord.objects.create(
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
        audit.record(
            actor=actor,
            verb="activities.check_out",
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


# --- whistle calls ----------------------------------------------------------------------------------------
def call_create(
    *,
    actor,
    org: OrgUnit,
    title: str,
    place: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    people_needed: int,
    deadline: dt.datetime,
    description: str = "",
    skills: Iterable[Skill] = (),
    grids: Iterable[OrgUnit] = (),
    aspect: ServiceAspect | None = None,
    now: dt.datetime | None = None,
) -> WhistleCall:
    """社区吹哨. Matching members (approved, living in the targeted grids or the unit, holding one of
    the skills
    when skills are named) and their employer Party organisations are notified after the commit."""
    moment = resolve_now(now)
    if not in_scope(actor, org.path):
        raise Http404
    if not permissions.can_blow_whistle(actor, org):
        raise NotAllowed()
    title = _text(title, "title", "需求内容", "What is needed", max_length=100)
    place = _text(place, "place", "地点", "Where", max_length=200)
    starts_at = _aware(starts_at, "starts_at", "开始时间", "Start")
    ends_at = _aware(ends_at, "ends_at", "结束时间", "End")
    deadline = _aware(deadline, "deadline", "报到截止时间", "Deadline")
    if ends_at <= starts_at:
        raise UserError(
            "ends_before_start",
            "结束时间必须晚于开始时间",
            "The end must be after the start",
            field="ends_at",
        )
    if deadline <= moment:
        raise UserError(
            "deadline_past",
            "报到截止时间必须晚于现在",
            "The deadline must be in the future",
            field="deadline",
        )
    if deadline > ends_at:
        raise UserError(
            "deadline_after_end",
            "报到截止时间不能晚于结束时间",
            "The deadline cannot be after the end",
            field="deadline",
        )
    people_needed = _int_in(people_needed, "people_needed", "需要人数", "People needed", 1, 1000)
    grids = list(grids)
    for grid in grids:
        if grid.kind not in (OrgKind.GRID, OrgKind.MICROGRID) or not grid.path.startswith(org.path):
            raise UserError(
                "grid_outside",
                f"网格“{grid.name}”不在“{org.name}”之内",
                f"Grid {grid.code} is not inside {org.code}",
                field="grids",
            )
    skills = list(skills)
    with transaction.atomic():
        call = WhistleCall.objects.create(
            org=org,
            aspect=aspect,
            title=title,
            description=description,
            place=place,
            starts_at=starts_at,
            ends_at=ends_at,
            people_needed=people_needed,
            deadline=deadline,
            created_by=actor,
            created_at=moment,
        )
        call.skills.set(skills)
        call.grids.set(grids)
        audit.record(
            actor=actor,
            verb="activities.call_create",
            obj=call,
            now=moment,
            details={
                "title": title,
                "people_needed": people_needed,
                "grids": [g.code for g in grids],
                "skills": [s.code for s in skills],
            },
        )
        _notify_call(call, grids, skills, moment)
    return call


def matching_members(call: WhistleCall, grids=None, skills=None):
    """Approved members the call asks.

    Living in its grids (or anywhere under its unit), with a skill it names."""
    from kangle.orgs.selectors import paths_q

    grids = list(call.grids.all()) if grids is None else grids
    skills = list(call.skills.all()) if skills is None else skills
    if grids:
        rows = Member.objects.filter(paths_q([g.path for g in grids], "org__path"))
    elif call.org.kind in (OrgKind.DISTRICT, OrgKind.STREET, OrgKind.AREA, OrgKind.COMMUNITY):
        rows = Member.objects.filter(subtree_q(call.org.path, "community__path"))
    else:
        rows = Member.objects.filter(subtree_q(call.org.path, "org__path"))
    rows = rows.filter(status=Status.APPROVED)
    if skills:
        rows = rows.filter(pk__in=Member.skills.through.objects.filter(skill__in=skills).values("member_id"))
    return rows


def _notify_call(call: WhistleCall, grids, skills, moment) -> None:
    link = reverse("activities:phone-call", args=[call.pk])
    body = (
        f"{call.place}，{local(call.starts_at):%m月%d日 %H:%M}，需要 {call.people_needed} 人，"
        f"{local(call.deadline):%m月%d日 %H:%M} 前报到"
    )
    members = list(matching_members(call, grids, skills).select_related("user").filter(user__isnull=False))
    for member in members:
        after_commit(
            notify_user,
            recipient=member.user,
            title=f"社区吹哨：{call.title}",
            body=body,
            link=link,
            sms=True,
            now=moment,
        )
    party_orgs = EmployerPartyOrg.objects.filter(
        pk__in={m.party_org_id for m in members if m.party_org_id}, account__isnull=False
    ).select_related("account")
    collective_link = reverse("activities:collective", args=[call.pk])
    for party_org in party_orgs:
        after_commit(
            notify_user,
            recipient=party_org.account,
            title=f"社区吹哨：{call.title}",
            body=body + "。贵单位可组织党员集体报到",
            link=collective_link,
            sms=False,
            now=moment,
        )


def _lock_open_call(call: WhistleCall, moment) -> WhistleCall:
    locked = WhistleCall.objects.select_for_update().get(pk=call.pk)
    if locked.status != CallStatus.OPEN or moment > locked.deadline:
        raise UserError("call_closed", "该吹哨任务已结束报到", "This call is closed for answers", status=409)
    return locked


def _write_responses(
    locked: WhistleCall, members: list[Member], *, actor, channel, party_org, moment
) -> list:
    already = set(
        WhistleResponse.objects.filter(call=locked, member__in=members).values_list("member_id", flat=True)
    )
    batch = uuid.uuid4().hex if len(members) > 1 or channel != ResponseChannel.INDIVIDUAL else ""
    seconds = max(0, int((moment - locked.created_at).total_seconds()))
    fresh = [
        WhistleResponse(
            call=locked,
            member=m,
            channel=channel,
            party_org=party_org,
            batch=batch,
            responded_by=actor,
            responded_at=moment,
            response_seconds=seconds,
        )
        for m in members
        if m.pk not in already
    ]
    WhistleResponse.objects.bulk_create(fresh)
    WhistleCall.objects.filter(pk=locked.pk).update(responded_count=F("responded_count") + len(fresh))
    locked.responded_count += len(fresh)
    return fresh


def response_create(*, actor, call: WhistleCall, now: dt.datetime | None = None) -> WhistleResponse:
    """A member reports for a call (党员报到)."""
    moment = resolve_now(now)
    member = _approved_member_of(actor)
    if not _reaches(member, call.org):
        raise Http404
    with transaction.atomic():
        locked = _lock_open_call(call, moment)
        if WhistleResponse.objects.filter(call=locked, member=member).exists():
            raise UserError(
                "already_responded",
                "您已报到，无需重复报到",
                "You have already answered this call",
                status=409,
            )
        (response,) = _write_responses(
            locked, [member], actor=actor, channel=ResponseChannel.INDIVIDUAL, party_org=None, moment=moment
        )
        audit.record(
            actor=actor,
            verb="activities.call_respond",
            obj=locked,
            now=moment,
            details={"member": member.pk, "seconds": response.response_seconds},
        )
        _tell_user(
            locked.created_by,
            f"党员报到：{locked.title}",
            f"{member.name} 已报到（{locked.responded_count}/{locked.people_needed}）",
            reverse("activities:call-detail", args=[locked.pk]),
            moment,
        )
    return response


class CollectiveListError(UserError):
    """A collective list with names that cannot be accepted; ``rows`` names each one and why."""

    def __init__(self, rows: list[dict]):
        self.rows = rows
        names_zh = "；".join(f"第{r['row']}行“{r['name']}”：{r['message']}" for r in rows)
        names_en = "; ".join(f"row {r['row']} {r['name']!r}: {r['message_en']}" for r in rows)
        super().__init__(
            "collective_list_invalid",
            f"名单中有 {len(rows)} 人无法报到，整份名单未提交，请修改后重新提交。{names_zh}",
            f"{len(rows)} name(s) cannot be accepted; nothing was submitted, "
            "correct the list and send it again. "
            f"{names_en}",
            field="names",
        )

    def as_dict(self) -> dict:
        body = super().as_dict()
        body["rows"] = self.rows
        return body


def _parse_names(names) -> list[str]:
    if isinstance(names, str):
        names = names.replace("，", ",").replace("、", ",").replace(";", ",").replace("；", ",").splitlines()
        names = [part for line in names for part in line.split(",")]
    return [normalise_text(n) for n in names]


def collective_response(
    *, actor, call: WhistleCall, names, party_org_id: int | None = None, now: dt.datetime | None = None
) -> list[WhistleResponse]:
    """集体报到 by an employer Party organisation with a named list.

    Each name must be one approved member of this organisation living where the call reaches. If any name
    fails, every failing name is reported (row, name, reason) and **none** is accepted: the organisation sends
    the corrected list again (names already reported are skipped then, so resending is harmless)."""
    moment = resolve_now(now)
    party_org = party_org_of(actor, party_org_id)
    names = [n for n in _parse_names(names)]
    if not any(names):
        raise UserError(
            "empty_list",
            "名单为空，请至少填写一个姓名",
            "The list is empty: name at least one member",
            field="names",
        )
    candidates: dict[str, list[Member]] = {}
    for member in Member.objects.filter(party_org=party_org, status=Status.APPROVED).select_related(
        "community"
    ):
        candidates.setdefault(normalise_text(member.name), []).append(member)
    chosen, problems, seen = [], [], set()
    for row, name in enumerate(names, start=1):
        if not name:
            continue
        found = candidates.get(name, [])
        if not found:
            problems.append(
                {
                    "row": row,
                    "name": name,
                    "message": "不是本单位已报到的党员",
                    "message_en": "not an approved member of this organisation",
                }
            )
        elif len(found) > 1:
            problems.append(
                {
                    "row": row,
                    "name": name,
                    "message": "本单位有同名党员，请联系社区处理",
                    "message_en": "several members share this name; ask the community",
                }
            )
        elif not _reaches(found[0], call.org):
            problems.append(
                {
                    "row": row,
                    "name": name,
                    "message": "不居住在该吹哨任务的范围内",
                    "message_en": "does not live where this call is",
                }
            )
        elif found[0].pk in seen:
            problems.append({"row": row, "name": name, "message": "名单中重复", "message_en": "listed twice"})
        else:
            seen.add(found[0].pk)
            chosen.append(found[0])
    if problems:
        raise CollectiveListError(problems)
    with transaction.atomic():
        locked = _lock_open_call(call, moment)
        fresh = _write_responses(
            locked, chosen, actor=actor, channel=ResponseChannel.PARTY_ORG, party_org=party_org, moment=moment
        )
        audit.record(
            actor=actor,
            verb="activities.call_respond_collective",
            obj=locked,
            now=moment,
            details={"party_org": party_org.pk, "members": [m.pk for m in chosen], "new": len(fresh)},
        )
        for response in fresh:
            _tell(
                response.member,
                f"单位已为您集体报到：{locked.title}",
                f"{locked.place}，{local(locked.starts_at):%m月%d日 %H:%M}",
                reverse("activities:phone-call", args=[locked.pk]),
                moment,
            )
        _tell_user(
            locked.created_by,
            f"集体报到：{locked.title}",
            f"{party_org.name} 报到 {len(fresh)} 人（{locked.responded_count}/{locked.people_needed}）",
            reverse("activities:call-detail", args=[locked.pk]),
            moment,
        )
    return fresh


def grid_response(
    *, actor, call: WhistleCall, member_ids: Iterable[int], now: dt.datetime | None = None
) -> list[WhistleResponse]:
    """A grid leader reports for their group: members living in the leader's grid."""
    moment = resolve_now(now)
    if not in_scope(actor, call.org.path) and not any(
        call.org.path.startswith(p) or p.startswith(call.org.path) for p in actor.scope_paths
    ):
        raise Http404
    # Ids come from the request body: only approved members under the actor's scope, whom the actor may
    # report for and the call reaches; any other id gets one answer that names and counts nobody.
    members = access_members(actor, member_ids, field="member_ids")
    if any(not permissions.can_report_for_group(actor, m.org) or not _reaches(m, call.org) for m in members):
        raise refused("member_ids")
    ids = [m.pk for m in members]
    with transaction.atomic():
        locked = _lock_open_call(call, moment)
        fresh = _write_responses(
            locked, members, actor=actor, channel=ResponseChannel.GRID, party_org=None, moment=moment
        )
        audit.record(
            actor=actor,
            verb="activities.call_respond_grid",
            obj=locked,
            now=moment,
            details={"members": ids, "new": len(fresh)},
        )
        for response in fresh:
            _tell(
                response.member,
                f"网格长已为您报到：{locked.title}",
                f"{locked.place}，{local(locked.starts_at):%m月%d日 %H:%M}",
                reverse("activities:phone-call", args=[locked.pk]),
                moment,
            )
    return fresh


def call_close(*, actor, call: WhistleCall, outcome: str, now: dt.datetime | None = None) -> WhistleCall:
    moment = resolve_now(now)
    if not in_scope(actor, call.org.path):
        raise Http404
    if not (permissions.can_blow_whistle(actor, call.org) or call.created_by_id == actor.pk):
        raise NotAllowed()
    outcome = _text(outcome, "outcome", "办理结果", "Outcome", max_length=2000)
    with transaction.atomic():
        locked = WhistleCall.objects.select_for_update().get(pk=call.pk)
        if locked.status == CallStatus.CLOSED:
            raise UserError("call_closed", "该吹哨任务已关闭", "This call is already closed", status=409)
        locked.status = CallStatus.CLOSED
        locked.outcome = outcome
        locked.closed_at = moment
        locked.closed_by = actor
        locked.save(update_fields=["status", "outcome", "closed_at", "closed_by"])
        audit.record(
            actor=actor,
            verb="activities.call_close",
            obj=locked,
            now=moment,
            details={"outcome": outcome, "responded": locked.responded_count},
        )
    return locked


# --- service records --------------------------------------------------------------------------------------
def _record_fields(*, title, started_at, minutes, beneficiaries, moment) -> dict:
    title = _text(title, "title", "服务内容", "What was done", max_length=100)
    started_at = _aware(started_at, "started_at", "服务时间", "Date and time")
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        raise UserError(
            "invalid_number", "服务时长必须是整数分钟", "Minutes must be a whole number", field="minutes"
        ) from None
    if minutes < 1:
        raise UserError("out_of_range", "服务时长至少 1 分钟", "At least 1 minute", field="minutes")
    if minutes > MAX_SELF_REPORT_MINUTES:
        raise UserError(
            "too_long", "一条服务记录不能超过 24 小时", "One record cannot exceed 24 hours", field="minutes"
        )
    if started_at > moment:
        raise UserError(
            "future_date", "服务时间不能晚于现在", "The service cannot be in the future", field="started_at"
        )
    if started_at + dt.timedelta(minutes=minutes) > moment:
        raise UserError(
            "future_end", "服务结束时间不能晚于现在", "The service cannot end in the future", field="minutes"
        )
    beneficiaries = _int_in(beneficiaries or 0, "beneficiaries", "服务群众人次", "Beneficiaries", 0, 10000)
    return {"title": title, "started_at": started_at, "minutes": minutes, "beneficiaries": beneficiaries}


def record_self_report(
    *,
    actor,
    title: str,
    started_at: dt.datetime,
    minutes: int,
    aspect: ServiceAspect,
    photo: ValidatedImage | None,
    beneficiaries: int = 0,
    call: WhistleCall | None = None,
    now: dt.datetime | None = None,
) -> ServiceRecord:
    """A member reports service they did, with a photo; the community verifies it."""
    moment = resolve_now(now)
    member = _approved_member_of(actor)
    fields = _record_fields(
        title=title, started_at=started_at, minutes=minutes, beneficiaries=beneficiaries, moment=moment
    )
    if not photo:
        raise UserError("photo_required", "请上传现场照片", "A photo is required", field="photo")
    if call is not None and not _reaches(member, call.org):
        raise Http404
    with transaction.atomic():
        record = ServiceRecord(
            member=member,
            org=member.community,
            aspect=aspect,
            source=RecordSource.SELF,
            call=call,
            created_by=actor,
            created_at=moment,
            **fields,
        )
        image = photo.as_file()
        record.photo.save(image.name, image, save=False)
        record.save()
        audit.record(
            actor=actor,
            verb="activities.record_self_report",
            obj=record,
            now=moment,
            details={"minutes": record.minutes},
        )
    return record


def record_staff_enter(
    *,
    actor,
    member: Member,
    title: str,
    started_at: dt.datetime,
    minutes: int,
    aspect: ServiceAspect,
    beneficiaries: int = 0,
    difficulty: int = 1,
    activity: Activity | None = None,
    call: WhistleCall | None = None,
    now: dt.datetime | None = None,
) -> ServiceRecord:
    """Staff (or a grid leader for their group) enter service someone did; it still needs verification."""
    moment = resolve_now(now)
    if not in_scope(actor, member.org.path):
        raise Http404
    if not permissions.can_report_for_group(actor, member.org):
        raise NotAllowed()
    fields = _record_fields(
        title=title, started_at=started_at, minutes=minutes, beneficiaries=beneficiaries, moment=moment
    )
    difficulty = _int_in(difficulty, "difficulty", "难度", "Difficulty", 1, 5)
    with transaction.atomic():
        record = ServiceRecord.objects.create(
            member=member,
            org=member.community,
            aspect=aspect,
            source=RecordSource.STAFF,
            activity=activity,
            call=call,
            difficulty=difficulty,
            created_by=actor,
            created_at=moment,
            **fields,
        )
        audit.record(
            actor=actor,
            verb="activities.record_staff_enter",
            obj=record,
            now=moment,
            details={"member": member.pk, "minutes": record.minutes},
        )
    return record


def _decide_checks(actor, record: ServiceRecord) -> None:
    if not in_scope(actor, record.org.path):
        raise Http404
    if record.member.user_id is not None and record.member.user_id == getattr(actor, "pk", None):
        raise NotAllowed("不能审核自己的服务记录", "You cannot verify your own service record")
    if not permissions.can_verify(actor, record.org):
        raise NotAllowed()


def _lock_record(record: ServiceRecord) -> ServiceRecord:
    return (
        ServiceRecord.objects.select_for_update(of=("self",))
        .select_related("member", "member__community", "aspect", "activity")
        .get(pk=record.pk)
    )


def record_verify(*, actor, record: ServiceRecord, now: dt.datetime | None = None) -> ServiceRecord:
    """The community confirms the record; the award is requested in the same transaction, so a record is
    never verified without its award once the ledger exists (a refusal from the ledger undoes both)."""
    moment = resolve_now(now)
    _decide_checks(actor, record)
    with transaction.atomic():
        locked = _lock_record(record)
        if locked.status != RecordStatus.PENDING:
            raise UserError(
                "not_pending", "该记录已审核过", "This record has already been decided", status=409
            )
        locked.status = RecordStatus.VERIFIED
        locked.decided_by = actor
        locked.decided_at = moment
        locked.reason = ""
        locked.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        request_award(locked, actor=actor, now=moment)
        audit.record(
            actor=actor,
            verb="activities.record_verify",
            obj=locked,
            now=moment,
            details={"minutes": locked.minutes},
        )
        _tell(
            locked.member,
            f"服务记录已认定：{locked.title}",
            f"时长 {locked.hours} 小时",
            reverse("activities:my-records"),
            moment,
        )
    return locked


def record_reject(
    *, actor, record: ServiceRecord, reason: str, now: dt.datetime | None = None
) -> ServiceRecord:
    """Reject a pending record, or revoke a verified one (its award is reversed); a reason is required."""
    moment = resolve_now(now)
    _decide_checks(actor, record)
    reason = _text(reason, "reason", "原因", "Reason", max_length=300)
    with transaction.atomic():
        locked = _lock_record(record)
        if locked.status not in (RecordStatus.PENDING, RecordStatus.VERIFIED):
            raise UserError(
                "not_open", "该记录已被退回或撤销", "This record is already rejected or revoked", status=409
            )
        was_verified = locked.status == RecordStatus.VERIFIED
        locked.status = RecordStatus.REVOKED if was_verified else RecordStatus.REJECTED
        locked.reason = reason
        locked.decided_by = actor
        locked.decided_at = moment
        locked.save(update_fields=["status", "reason", "decided_by", "decided_at"])
        if was_verified:
            request_reversal(locked, actor=actor, reason=reason, now=moment)
        audit.record(
            actor=actor,
            verb=f"activities.record_{'revoke' if was_verified else 'reject'}",
            obj=locked,
            now=moment,
            details={"reason": reason},
        )
        verb = "撤销" if was_verified else "退回"
        _tell(
            locked.member,
            f"服务记录被{verb}：{locked.title}",
            f"原因：{reason}",
            reverse("activities:my-records"),
            moment,
        )
    return locked
