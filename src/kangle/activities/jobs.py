"""Periodic jobs of activities, run by `kangle worker` (settings.KANGLE_PERIODIC_JOBS)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy

from kangle.activities.models import Activity, ActivityStatus, Signup, SignupStatus
from kangle.core import audit
from kangle.core.timeutil import resolve_now
from kangle.notify.services import day_time, notify_user


def send_activity_reminders(*, now: dt.datetime | None = None, **_) -> int:
    """Remind confirmed participants of activities starting within KANGLE_ACTIVITY_REMINDER_HOURS.

    Each activity is claimed with a compare-and-set on ``reminder_sent_at`` (NULL → now) inside the same
    transaction as its notices, so with several workers running this at once every reminder is sent once;
    a crash before the commit leaves the activity unclaimed for the next run."""
    moment = resolve_now(now)
    horizon = moment + dt.timedelta(hours=settings.KANGLE_ACTIVITY_REMINDER_HOURS)
    due = list(
        Activity.objects.filter(
            status=ActivityStatus.OPEN,
            reminder_sent_at__isnull=True,
            starts_at__gt=moment,
            starts_at__lte=horizon,
        ).values_list("pk", flat=True)[:200]
    )
    sent = 0
    for pk in due:
        with transaction.atomic():
            claimed = Activity.objects.filter(pk=pk, reminder_sent_at__isnull=True).update(
                reminder_sent_at=moment
            )
            if not claimed:
                continue  # another worker took it
            activity = Activity.objects.get(pk=pk)
            link = reverse("activities:phone-detail", args=[pk])
            signups = Signup.objects.filter(
                activity_id=pk, status=SignupStatus.CONFIRMED, member__user__isnull=False
            ).select_related("member__user")
            count = 0
            for signup in signups:
                notify_user(
                    recipient=signup.member.user,
                    title=gettext_lazy("Activity reminder: %(title)s"),
                    body=gettext_lazy(
                        "%(starts)s at %(place)s; please be on time and scan the code to check in"
                    ),
                    params={
                        "title": activity.title,
                        "starts": day_time(activity.starts_at),
                        "place": activity.place,
                    },
                    link=link,
                    sms=True,
                    now=moment,
                )
                count += 1
            audit.record(
                actor=None,
                verb="activity.reminders_sent",
                obj=activity,
                details={"count": count},
                now=moment,
            )
            sent += count
    return sent
