"""Time helpers. Everything is aware; the local zone is Asia/Shanghai (settings.TIME_ZONE)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()


def local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment)


def today() -> dt.date:
    return timezone.localdate()


def default_period(end: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The period a figure page opens on: the last 12 months up to today, so a page is never empty only
    because the latest weeks were quiet (one default for every figure page)."""
    end = end or today()
    return end - dt.timedelta(days=364), end


def start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def resolve_now(value: dt.datetime | None) -> dt.datetime:
    """Services take ``now=`` so tests and replays can fix the clock; None means the real clock."""
    if value is None:
        return timezone.now()
    if timezone.is_naive(value):
        raise ValueError("naive datetime passed where an aware one is required")
    return value


def humanise_duration(delta: dt.timedelta) -> str:
    """A short Chinese duration: 1天3小时, 45分钟. Negative durations are shown by absolute value."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(f"{days}天")
    if hours:
        parts.append(f"{hours}小时")
    if minutes and not days:
        parts.append(f"{minutes}分钟")
    return "".join(parts) or "不到1分钟"
