"""Sign-ups: a member, a household member or a team takes a place (or goes on the waiting list); a
cancellation frees the place for the first one waiting. Capacity holds under the activity's row lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kangle.activities import permissions, selectors
from kangle.activities.models import (
    ACTIVE_SIGNUP_STATUSES,
    Activity,
    ActivityStatus,
    Signup,
    SignupStatus,
)
from kangle.activities.services.shared import (
    member_approved_of,
    member_link,
    member_notify,
    not_a_member,
    reaches,
    starts_text,
)
from kangle.core import audit
from kangle.core.errors import NotAllowed, UserError
from kangle.core.timeutil import local, resolve_now
from kangle.members.constants import Status
from kangle.members.models import EmployerPartyOrg, HouseholdMember, Member
from kangle.members.selectors import own_file
from kangle.orgs.scope import in_scope
from kangle.points import services as points_services


def _lock_open(activity: Activity, moment: dt.datetime) -> Activity:
    locked = Activity.objects.select_for_update().get(pk=activity.pk)
    if locked.status != ActivityStatus.OPEN:
        raise UserError("activity_cancelled", _("The activity is cancelled"))
    if moment >= locked.starts_at:
        raise UserError("signup_closed", _("The activity has started: sign-up is closed"))
    return locked


def _place(locked: Activity, member: Member, *, actor, party_org, moment) -> Signup:
    if Signup.objects.filter(
        activity=locked, member=member, household_member__isnull=True, status__in=ACTIVE_SIGNUP_STATUSES
    ).exists():
        raise UserError(
            "already_signed_up", _("%(name)s has already signed up"), field="member", name=member.name
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


def _signing_member(actor, activity: Activity, member: Member | None) -> Member:
    """The member themselves, or a member staff sign up at the desk or by telephone."""
    if member is None:
        member = selectors.scanning_member(actor)
        if member is None:
            raise not_a_member()
        if not reaches(member, activity.org):
            raise Http404
        return member
    if not in_scope(actor, activity.org.path):
        raise Http404
    if not permissions.can_manage_activity(actor, activity.org):
        raise NotAllowed()
    if member.status != Status.APPROVED or not reaches(member, activity.org):
        raise UserError(
            "not_a_member",
            _("%(name)s is not an approved member who can join this activity"),
            field="member",
            name=member.name,
        )
    return member


def signup_create(
    *, actor, activity: Activity, member: Member | None = None, now: dt.datetime | None = None
) -> Signup:
    """A member signs up; past the capacity they go on the waiting list. Staff may sign up a member who
    asked at the desk or by telephone (``member``)."""
    moment = resolve_now(now)
    member = _signing_member(actor, activity, member)
    _check_signup_window(activity, member, moment)
    with transaction.atomic():
        locked = _lock_open(activity, moment)
        signup = _place(locked, member, actor=actor, party_org=None, moment=moment)
        Activity.objects.filter(pk=locked.pk).update(confirmed_count=locked.confirmed_count)
        audit.record(
            actor=actor,
            verb="signup.create",
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
    member = member_approved_of(actor)
    if household_member.member_id != member.pk:
        raise Http404
    if not reaches(member, activity.org):
        raise Http404
    if not activity.allows_family:
        raise UserError(
            "family_not_allowed", _("This activity does not take family members"), field="household_member"
        )
    _check_signup_window(activity, member, moment)
    with transaction.atomic():
        locked = _lock_open(activity, moment)
        if Signup.objects.filter(
            activity=locked, household_member=household_member, status__in=ACTIVE_SIGNUP_STATUSES
        ).exists():
            raise UserError(
                "already_signed_up",
                _("%(name)s has already signed up"),
                field="household_member",
                name=household_member.name,
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
            verb="signup.household",
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
            _("Sign-up has not opened yet; %(name)s may sign up from %(opens)s"),
            field="activity",
            status=409,
            name=member.name,
            opens=f"{local(opens):%Y-%m-%d %H:%M}",
        )


def _tell_signup(signup: Signup, activity: Activity, moment) -> None:
    params = {"title": activity.title, "starts": starts_text(activity), "place": activity.place}
    if signup.status == SignupStatus.CONFIRMED:
        member_notify(
            signup.member,
            _("Signed up: %(title)s"),
            "%(starts)s %(place)s",
            member_link(activity),
            moment,
            params,
        )
    else:
        member_notify(
            signup.member,
            _("On the waiting list: %(title)s"),
            _("The places are full; if someone cancels, you move up in turn and are told"),
            member_link(activity),
            moment,
            params,
        )


def party_org_of(actor, party_org_id: int | None = None) -> EmployerPartyOrg:
    """The employer Party organisation the actor's account acts for (it names one when it serves several)."""
    if not permissions.is_party_org_account(actor):
        raise NotAllowed(_("Only an employer Party organisation's account can do this"))
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
            _("This account serves several Party organisations: choose the one you act for"),
            field="party_org",
        )
    return orgs[0]


def _team_members(party_org, ids: list[int], activity: Activity) -> dict[int, Member]:
    """The team's members by id; every id that is not an approved member the activity reaches is named."""
    if not ids:
        raise UserError("empty_team", _("Choose at least one member"), field="member_ids")
    members = {
        m.pk: m for m in Member.objects.filter(pk__in=ids, party_org=party_org).select_related("community")
    }
    problems = []
    for pk in ids:
        member = members.get(pk)
        if member is None or member.status != Status.APPROVED:
            problems.append(f"#{pk}")
        elif not reaches(member, activity.org):
            problems.append(member.name)
    if problems:
        names = "、".join(problems)
        raise UserError(
            "team_invalid",
            _("Not approved members of your organisation who can join this activity: %(names)s"),
            field="member_ids",
            names=names,
        )
    return members


def signup_team(
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
    members = _team_members(party_org, ids, activity)
    for pk in ids:
        _check_signup_window(activity, members[pk], moment)
    with transaction.atomic():
        locked = _lock_open(activity, moment)
        signups = [_place(locked, members[pk], actor=actor, party_org=party_org, moment=moment) for pk in ids]
        Activity.objects.filter(pk=locked.pk).update(confirmed_count=locked.confirmed_count)
        audit.record(
            actor=actor,
            verb="signup.team",
            obj=locked,
            now=moment,
            details={"party_org": party_org.pk, "members": ids},
        )
        for signup in signups:
            _tell_signup(signup, locked, moment)
    return signups


def _promote_first_waiting(activity: Activity, moment) -> Signup | None:
    """Give a freed place to the first on the waiting list (before the start), or give it back."""
    promoted = (
        Signup.objects.select_for_update()
        .filter(activity=activity, status=SignupStatus.WAITLISTED)
        .order_by("created_at", "id")
        .first()
    )
    if promoted is not None and moment < activity.starts_at:
        promoted.status = SignupStatus.CONFIRMED
        promoted.promoted_at = moment
        promoted.save(update_fields=["status", "promoted_at"])
        member_notify(
            promoted.member,
            _("Off the waiting list: %(title)s"),
            _("Someone cancelled and you have moved up. %(starts)s %(place)s"),
            member_link(activity),
            moment,
            {"title": activity.title, "starts": starts_text(activity), "place": activity.place},
        )
        return promoted
    Activity.objects.filter(pk=activity.pk).update(confirmed_count=F("confirmed_count") - 1)
    return None


def signup_cancel(*, actor, signup: Signup, now: dt.datetime | None = None) -> Signup:
    """Cancel a sign-up (the member, the team's Party organisation or the organiser). A freed place goes to
    the first on the waiting list, under the same row lock."""
    moment = resolve_now(now)
    activity = signup.activity
    member = own_file(actor)
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
            raise UserError("already_cancelled", _("This sign-up is already cancelled"))
        was_confirmed = locked.status == SignupStatus.CONFIRMED
        locked.status = SignupStatus.CANCELLED
        locked.cancelled_at = moment
        locked.save(update_fields=["status", "cancelled_at"])
        promoted = _promote_first_waiting(locked_activity, moment) if was_confirmed else None
        audit.record(
            actor=actor,
            verb="signup.cancel",
            obj=locked,
            org_path=locked_activity.org.path,
            now=moment,
            details={"activity": locked_activity.pk, "promoted": promoted.pk if promoted else None},
        )
    return locked
