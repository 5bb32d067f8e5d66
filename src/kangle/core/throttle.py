"""The one rate limit and lockout mechanism: a counter per (scope, key) in the database.

Every change is a single SQL statement (``INSERT … ON CONFLICT DO UPDATE … RETURNING`` to count,
``UPDATE`` to refund or reset), so concurrent requests on any number of processes or machines never read a
count and write it back: the limit holds exactly, on SQLite and PostgreSQL alike. Counting happens
*before* the guarded work (reserve, then act), never after a check, so there is no check-then-act race.

A window is fixed: it starts at the first hit and lasts ``window``; a hit after it starts a new window.
Keys are hashed with the field key, so phone numbers and addresses are not stored in clear.

Usage::

    if not throttle.hit("login", f"user:{user.pk}", limit=5, window=timedelta(minutes=15)):
        ...  # refused: over the limit within the window
    throttle.reset("login", f"user:{user.pk}")  # e.g. after a successful login
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F

from kangle.core.crypto import blind_index
from kangle.core.models import Throttle
from kangle.core.timeutil import resolve_now


def key_hash(scope: str, key: str) -> str:
    return blind_index(f"throttle:{scope}:{key}")


def hit(scope: str, key: str, *, limit: int, window: dt.timedelta, now: dt.datetime | None = None) -> bool:
    """Count one attempt; True while the attempts in the current window (this one included) are at most
    ``limit``, False once it is exceeded (the refused attempt is counted too)."""
    return count(scope, key, window=window, now=now) <= limit


@dataclass(frozen=True)
class Limit:
    scope: str
    key: str
    limit: int
    window: dt.timedelta


def hit_all(*limits: Limit, now: dt.datetime | None = None) -> bool:
    """Count one attempt against several limits at once (per client and per number, say); True only if
    every one holds. The counters are updated in one transaction in a fixed order, so each row stays locked
    until all are counted: two parallel requests cannot each pass one limit and fail the other, and exactly
    ``limit`` attempts pass however many arrive together."""
    moment = resolve_now(now)
    ordered = sorted(limits, key=lambda item: (item.scope, key_hash(item.scope, item.key)))
    with transaction.atomic():
        counts = [count(item.scope, item.key, window=item.window, now=moment) for item in ordered]
    return all(seen <= item.limit for seen, item in zip(counts, ordered, strict=True))


def count(scope: str, key: str, *, window: dt.timedelta, now: dt.datetime | None = None) -> int:
    """Count one attempt and return the number of attempts in the current window, this one included."""
    moment = resolve_now(now)
    expired_before = moment - window
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO core_throttle (scope, key_hash, hits, window_start) VALUES (%s, %s, 1, %s)
            ON CONFLICT (scope, key_hash) DO UPDATE SET
                hits = CASE WHEN core_throttle.window_start <= %s THEN 1 ELSE core_throttle.hits + 1 END,
                window_start = CASE WHEN core_throttle.window_start <= %s
                                    THEN excluded.window_start ELSE core_throttle.window_start END
            RETURNING hits
            """,
            [
                scope,
                key_hash(scope, key),
                *(_db(value) for value in (moment, expired_before, expired_before)),
            ],
        )
        return cursor.fetchone()[0]


def _db(moment: dt.datetime):
    """A datetime as this database stores it (raw SQL skips the ORM's conversion)."""
    return connection.ops.adapt_datetimefield_value(moment)


def is_blocked(
    scope: str, key: str, *, limit: int, window: dt.timedelta, now: dt.datetime | None = None
) -> bool:
    """Read-only: has the key used up its attempts in the current window? (For showing a page; to guard
    work, use ``hit``, which reserves the attempt atomically.)"""
    moment = resolve_now(now)
    return Throttle.objects.filter(
        scope=scope, key_hash=key_hash(scope, key), hits__gte=limit, window_start__gt=moment - window
    ).exists()


def refund(scope: str, key: str) -> None:
    """Give back one attempt (a reserved attempt that turned out to be legitimate)."""
    Throttle.objects.filter(scope=scope, key_hash=key_hash(scope, key), hits__gt=0).update(hits=F("hits") - 1)


def reset(scope: str, key: str) -> None:
    """Forget the key's attempts (e.g. after a successful login)."""
    Throttle.objects.filter(scope=scope, key_hash=key_hash(scope, key)).delete()
