"""Time helpers. Everything is aware; the local zone is Asia/Shanghai (settings.TIME_ZONE)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType

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


# A duration's words by language, translated once a process: a queue page shows two clocks a row.
_DURATION_WORDS: dict[str, Mapping[str, str]] = {}


def forget_duration_words() -> None:
    """Translate the duration words again on their next use (a translation changed)."""
    _DURATION_WORDS.clear()


def duration_words() -> Mapping[str, str]:
    """The words of ``humanise_duration`` in the active language (a page of many durations resolves them
    once)."""
    from django.utils.translation import get_language, gettext

    language = get_language() or ""
    words = _DURATION_WORDS.get(language)
    if words is None:
        words = _DURATION_WORDS[language] = MappingProxyType(
            {
                "days_hours": gettext("%(days)d d %(hours)d h"),
                "days": gettext("%(days)d d"),
                "hours_minutes": gettext("%(hours)d h %(minutes)d min"),
                "hours": gettext("%(hours)d h"),
                "minutes": gettext("%(minutes)d min"),
                "none": gettext("under 1 min"),
            }
        )
    return words


def humanise_duration(delta: dt.timedelta, words: Mapping[str, str] | None = None) -> str:
    """A short duration in the active language (1天3小时 / 1 d 3 h, 45分钟 / 45 min): days and hours, or
    hours and minutes. Negative durations are shown by absolute value. ``words``: ``duration_words()``,
    when the caller resolved them once for many durations."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    values = {"days": days, "hours": hours, "minutes": minutes}
    if days:
        shape = "days_hours" if hours else "days"
    elif hours:
        shape = "hours_minutes" if minutes else "hours"
    else:
        shape = "minutes" if minutes else "none"
    return (words or duration_words())[shape] % values
