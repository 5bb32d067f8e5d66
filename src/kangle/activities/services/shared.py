"""What the activity services share: who the acting member is, what a member reaches, deferred notices and
the time limits of check-in. Used by the service modules and ``capture``; callers elsewhere use the names ``services`` re-exports."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kangle.activities.models import Activity
from kangle.core.errors import UserError
from kangle.members.constants import Status
from kangle.members.models import Member
from kangle.members.selectors import own_file
from kangle.notify.services import Phrase, after_commit, day_time, notify_user
from kangle.orgs.models import OrgUnit

# The ledger's name for a service record (points.services: source_type / source_id).
AWARD_SOURCE_TYPE = "activities.servicerecord"
# Check-in opens this long before an activity starts; check-out stays open this long after it ends.
CHECK_IN_OPENS = dt.timedelta(minutes=30)
CHECK_OUT_CLOSES = dt.timedelta(hours=2)
MAX_SELF_REPORT_MINUTES = 24 * 60


def not_a_member() -> UserError:
    return UserError("not_a_member", _("Only approved members can do this"), status=403)


def member_approved_of(actor) -> Member:
    """The actor's own member file, which must be approved."""
    member = own_file(actor)
    if member is None or member.status != Status.APPROVED:
        raise not_a_member()
    return member


def reaches(member: Member, org: OrgUnit) -> bool:
    """A member reaches what is organised in their community or above it (area, street), and what is
    organised inside their community (a grid's call)."""
    community_path = member.community.path
    return community_path.startswith(org.path) or org.path.startswith(community_path)


def member_notify(
    member: Member, title, body, link: str, moment: dt.datetime, params: dict | None = None
) -> None:
    """An inbox notice (and SMS) for a member with a login, sent after the commit, in the member's language:
    ``title`` and ``body`` are lazy messages filled from ``params``."""
    if member.user_id:
        after_commit(
            notify_user,
            recipient=member.user,
            title=title,
            body=body,
            params=params,
            link=link,
            sms=True,
            now=moment,
        )


def user_notify(user, title, body, link: str, moment: dt.datetime, params: dict | None = None) -> None:
    """An inbox notice for a staff user (no SMS), sent after the commit, in the user's language."""
    if user is not None:
        after_commit(
            notify_user,
            recipient=user,
            title=title,
            body=body,
            params=params,
            link=link,
            sms=False,
            now=moment,
        )


def member_link(activity: Activity) -> str:
    return reverse("activities:phone-detail", args=[activity.pk])


def starts_text(activity) -> Phrase:
    """When the activity starts, for a notice: rendered in the notice's language."""
    return day_time(activity.starts_at)
