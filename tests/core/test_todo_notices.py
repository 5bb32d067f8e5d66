"""New work reaches staff: an inbox notice when the to-do grows, one text a day if the street chose it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core.todo_items import member
from kangle.accounts.models import User
from kangle.members.constants import Status
from kangle.notify.models import Notification, OutboxMessage
from kangle.reports.jobs import todo_notices
from kangle.reports.models import StreetSettings

pytestmark = pytest.mark.django_db


def _morning(day_offset: int = 0) -> dt.datetime:
    local = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    return local + dt.timedelta(days=day_offset)


def test_new_registration_reaches_the_secretary_once(personas):
    now = _morning()
    member(personas.tree.community_a, Status.PENDING, at=now - dt.timedelta(minutes=5))
    todo_notices(now=now)
    notices = Notification.objects.filter(recipient=personas.secretary_a)
    assert notices.count() == 1 and "1" in notices.get().body
    # Nothing new: no second notice. One more registration: one more notice.
    todo_notices(now=now + dt.timedelta(minutes=5))
    assert notices.count() == 1
    member(personas.tree.community_a, Status.PENDING, at=now)
    todo_notices(now=now + dt.timedelta(minutes=10))
    assert notices.count() == 2
    # The outsider (community B) hears nothing of community A's work.
    assert not Notification.objects.filter(recipient=personas.secretary_b).exists()


def test_sms_digest_once_a_day_by_the_streets_choice(personas):
    User.objects.filter(pk=personas.secretary_a.pk).update(phone="13900001111")
    now = _morning()
    for _ in range(3):
        member(personas.tree.community_a, Status.PENDING, at=now - dt.timedelta(hours=1))
    todo_notices(now=now)
    assert not OutboxMessage.objects.filter(reference__startswith="todo-digest:").exists()  # not chosen
    StreetSettings.objects.create(street=personas.tree.street, sms_digest=True, updated_at=now)
    todo_notices(now=now + dt.timedelta(minutes=5))
    todo_notices(now=now + dt.timedelta(hours=3))
    digests = OutboxMessage.objects.filter(reference__startswith=f"todo-digest:{personas.secretary_a.pk}:")
    assert digests.count() == 1  # three items, two runs: one text
    todo_notices(now=_morning(1))
    assert digests.count() == 2  # the next day's
