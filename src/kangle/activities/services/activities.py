"""An activity's own lifecycle: created by the organiser, its beneficiaries entered, cancelled."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kangle.activities import permissions
from kangle.activities.models import ACTIVE_SIGNUP_STATUSES, Activity, ActivityStatus
from kangle.activities.services.shared import member_link, member_notify
from kangle.core import audit, cleaners
from kangle.core.errors import NotAllowed, UserError
from kangle.core.timeutil import resolve_now
from kangle.orgs.models import OrgUnit, Venue
from kangle.orgs.scope import in_scope
from kangle.posts.models import Post, ServiceAspect


def _check_manager(actor, org: OrgUnit) -> None:
    if not in_scope(actor, org.path):
        raise Http404
    if not permissions.can_manage_activity(actor, org):
        raise NotAllowed()


def _check_times(starts_at, ends_at, signup_opens_at) -> tuple:
    starts_at = cleaners.aware_datetime(starts_at, field="starts_at", label=_("Starts"))
    ends_at = cleaners.aware_datetime(ends_at, field="ends_at", label=_("Ends"))
    if ends_at <= starts_at:
        raise UserError("ends_before_start", _("The end must be after the start"), field="ends_at")
    signup_opens_at = cleaners.aware_datetime(
        signup_opens_at, field="signup_opens_at", label=_("Sign-up opening time"), required=False
    )
    if signup_opens_at is not None and signup_opens_at >= starts_at:
        raise UserError(
            "signup_opens_too_late",
            _("Sign-up must open before the activity starts"),
            field="signup_opens_at",
        )
    return starts_at, ends_at, signup_opens_at


def _check_links(actor, org: OrgUnit, aspect: ServiceAspect, venue: Venue | None, post: Post | None) -> None:
    if not aspect.is_active:
        raise UserError("aspect_retired", _("This aspect is retired"), field="aspect")
    if venue is not None and not (venue.org.path.startswith(org.path) or org.path.startswith(venue.org.path)):
        raise UserError("venue_outside", _("The venue is outside this unit"), field="venue")
    if post is not None and not in_scope(actor, post.org.path):
        raise UserError("post_outside", _("The post is outside your scope"), field="post")


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
    _check_manager(actor, org)
    title = cleaners.text(title, field="title", label=_("Activity title"), max_length=100)
    theme = cleaners.text(theme, field="theme", label=_("Theme"), max_length=50, required=False)
    place = cleaners.text(place, field="place", label=_("Place"), max_length=200, required=False)
    starts_at, ends_at, signup_opens_at = _check_times(starts_at, ends_at, signup_opens_at)
    capacity = cleaners.whole_number(capacity, field="capacity", label=_("Capacity"), low=1, high=10000)
    difficulty = cleaners.whole_number(difficulty, field="difficulty", label=_("Difficulty"), low=1, high=5)
    _check_links(actor, org, aspect, venue, post)
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
            verb="activity.create",
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
    _check_manager(actor, activity.org)
    count = cleaners.whole_number(
        count, field="beneficiary_count", label=_("Beneficiaries"), low=0, high=100000
    )
    with transaction.atomic():
        before = activity.beneficiary_count
        Activity.objects.filter(pk=activity.pk).update(beneficiary_count=count)
        activity.beneficiary_count = count
        audit.record(
            actor=actor,
            verb="activity.beneficiaries_set",
            obj=activity,
            now=moment,
            details={"from": before, "to": count},
        )
    return activity


def activity_cancel(*, actor, activity: Activity, reason: str, now: dt.datetime | None = None) -> Activity:
    moment = resolve_now(now)
    _check_manager(actor, activity.org)
    reason = cleaners.text(reason, field="reason", label=_("Reason"), max_length=300)
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        if locked.status == ActivityStatus.CANCELLED:
            raise UserError("already_cancelled", _("The activity is already cancelled"))
        locked.status = ActivityStatus.CANCELLED
        locked.save(update_fields=["status"])
        for signup in locked.signups.filter(status__in=ACTIVE_SIGNUP_STATUSES).select_related("member"):
            member_notify(
                signup.member,
                _("Activity cancelled: %(title)s"),
                "%(reason)s",
                member_link(locked),
                moment,
                {"title": locked.title, "reason": reason},
            )
        audit.record(actor=actor, verb="activity.cancel", obj=locked, details={"reason": reason}, now=moment)
    return locked
