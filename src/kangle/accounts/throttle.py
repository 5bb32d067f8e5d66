"""Login lockout: after KANGLE_LOGIN_MAX_FAILURES failures within the lock window, refuse for a while.

Counted per identifier (username or phone as typed, normalised and hashed) in the database, so every web
process and machine sees the same count; unknown identifiers are counted too, so the lockout does not
reveal which accounts exist.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from kangle.accounts.models import LoginThrottle
from kangle.core.crypto import blind_index
from kangle.core.text import is_mobile, normalise_phone, normalise_text
from kangle.core.timeutil import resolve_now


def _key(identifier: str) -> str:
    text = normalise_text(identifier)
    # Every spelling of one mobile number (spaces, +86, full-width digits) counts as the same identifier.
    phone = normalise_phone(text)
    return blind_index("login:" + (phone if is_mobile(phone) else text.lower()))


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.KANGLE_LOGIN_LOCK_MINUTES)


def locked_until(identifier: str, *, now: dt.datetime | None = None) -> dt.datetime | None:
    moment = resolve_now(now)
    row = LoginThrottle.objects.filter(key_hash=_key(identifier)).only("locked_until").first()
    if row and row.locked_until and row.locked_until > moment:
        return row.locked_until
    return None


def record_failure(identifier: str, *, now: dt.datetime | None = None) -> None:
    moment = resolve_now(now)
    key = _key(identifier)
    with transaction.atomic():
        row = LoginThrottle.objects.select_for_update().filter(key_hash=key).first()
        if row is None:
            try:
                with transaction.atomic():
                    LoginThrottle.objects.create(key_hash=key, failures=1, first_failure_at=moment)
                return
            except IntegrityError:  # another process created it a moment ago
                row = LoginThrottle.objects.select_for_update().get(key_hash=key)
        if row.first_failure_at is None or moment - row.first_failure_at > _window():
            # An old streak of failures does not count towards a new lockout.
            LoginThrottle.objects.filter(pk=row.pk).update(
                failures=1, first_failure_at=moment, locked_until=None
            )
            return
        LoginThrottle.objects.filter(pk=row.pk).update(failures=F("failures") + 1)
        if row.failures + 1 >= settings.KANGLE_LOGIN_MAX_FAILURES:
            LoginThrottle.objects.filter(pk=row.pk).update(locked_until=moment + _window())


def clear(identifier: str) -> None:
    LoginThrottle.objects.filter(key_hash=_key(identifier)).delete()
