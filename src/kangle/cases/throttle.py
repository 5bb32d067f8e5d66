"""Rate limiting for the public tracking page (case number + last 4 digits of the phone).

Failures are counted in the database — per client address and per case number — so every web process and
machine sees the same count. A locked client gets the same answer whether or not its guess was right.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from kangle.cases.models import TrackThrottle
from kangle.core.crypto import blind_index
from kangle.core.text import normalise_text
from kangle.core.timeutil import resolve_now


def max_failures() -> int:
    return settings.KANGLE_TRACK_MAX_FAILURES


def window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.KANGLE_TRACK_LOCK_MINUTES)


def keys(client: str, number: str) -> list[str]:
    return [
        blind_index("track-client:" + normalise_text(client)),
        blind_index("track-case:" + normalise_text(number).upper()),
    ]


def locked_until(client: str, number: str, *, now: dt.datetime | None = None) -> dt.datetime | None:
    moment = resolve_now(now)
    rows = TrackThrottle.objects.filter(key_hash__in=keys(client, number), locked_until__gt=moment)
    return max((row.locked_until for row in rows), default=None)


def record_failure(client: str, number: str, *, now: dt.datetime | None = None) -> None:
    moment = resolve_now(now)
    for key in keys(client, number):
        _count(key, moment)


def _count(key: str, moment: dt.datetime) -> None:
    with transaction.atomic():
        row = TrackThrottle.objects.select_for_update().filter(key_hash=key).first()
        if row is None:
            try:
                with transaction.atomic():
                    TrackThrottle.objects.create(key_hash=key, failures=1, first_failure_at=moment)
                return
            except IntegrityError:  # another process created it a moment ago
                row = TrackThrottle.objects.select_for_update().get(key_hash=key)
        if row.first_failure_at is None or moment - row.first_failure_at > window():
            TrackThrottle.objects.filter(pk=row.pk).update(
                failures=1, first_failure_at=moment, locked_until=None
            )
            return
        TrackThrottle.objects.filter(pk=row.pk).update(failures=F("failures") + 1)
        if row.failures + 1 >= max_failures():
            TrackThrottle.objects.filter(pk=row.pk).update(locked_until=moment + window())
