"""Periodic jobs of activities, run by `kangle worker` (settings.KANGLE_PERIODIC_JOBS)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from kangle.activities.models import Activity, ActivityStatus, Signup, SignupStatus
from kangle.core import audit
from kangle.core.timeutil import local, resolve_now
from kangle.notify.services import notify_user


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
                    title=f"活动提醒：{activity.title}",
                    body=(
                        f"{local(activity.starts_at):%m月%d日 %H:%M} 在 {activity.place}，"
                        "请准时参加并扫码签到"
                    ),
                    link=link,
                    sms=True,
                    now=moment,
                )
                count += 1
            audit.record(
                actor=None,
                verb="activities.reminders_sent",
                obj=activity,
                details={"count": count},
                now=moment,
            )
            sent += count
    return sent
