"""The rate limits of the login-code flow, behind the one function the shared throttle will provide.

``hit(scope, key, limit=, window=)`` counts one event and answers whether it is still within the limit.
Until the project-wide throttle (one model, atomic increments) is available this counts in Django's cache,
whose ``add``/``incr`` are atomic per cache server; switching is the import in ``login_codes``.
"""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache

from kangle.core.crypto import blind_index
from kangle.core.timeutil import resolve_now


def hit(scope: str, key: str, *, limit: int, window: dt.timedelta, now: dt.datetime | None = None) -> bool:
    """Count one event for (scope, key) in the current fixed window; True while within ``limit``."""
    moment = resolve_now(now)
    seconds = int(window.total_seconds())
    bucket = int(moment.timestamp()) // seconds
    name = f"rate:{scope}:{blind_index(key)}:{bucket}"
    if cache.add(name, 1, timeout=seconds):
        return limit >= 1
    try:
        return cache.incr(name) <= limit
    except ValueError:  # expired between add and incr
        cache.add(name, 1, timeout=seconds)
        return limit >= 1
