"""Schedules: recurring weekly slots (the 21-bit encoding of Member.availability) and dated sessions.

Two schedules clash when a weekly slot is shared while both date ranges overlap, when two sessions overlap
in time, or when a session falls on the other schedule's weekly slot inside its date range.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kangle.members.constants import SLOT_CODES

DAY_LABELS = [
    gettext_lazy("Mon"),
    gettext_lazy("Tue"),
    gettext_lazy("Wed"),
    gettext_lazy("Thu"),
    gettext_lazy("Fri"),
    gettext_lazy("Sat"),
    gettext_lazy("Sun"),
]
PERIOD_LABELS = [gettext_lazy("morning"), gettext_lazy("afternoon"), gettext_lazy("evening")]


def slot_label(index: int) -> str:
    return _("%(day)s %(period)s") % {"day": DAY_LABELS[index // 3], "period": PERIOD_LABELS[index % 3]}


def slot_labels(mask: int) -> list[str]:
    return [slot_label(i) for i in bits(mask)]


def bits(mask: int) -> list[int]:
    return [i for i in range(21) if mask >> i & 1]


def mask_from_codes(codes) -> int:
    mask = 0
    for code in codes:
        mask |= 1 << SLOT_CODES[code]
    return mask


def codes_from_mask(mask: int) -> list[str]:
    by_index = {index: code for code, index in SLOT_CODES.items()}
    return [by_index[i] for i in bits(mask)]


def period_of(hour: int) -> int:
    return 0 if hour < 12 else (1 if hour < 18 else 2)


def session_slots(starts_at: dt.datetime, ends_at: dt.datetime) -> int:
    """The slots a session touches, in local time (a session is within one day in practice)."""
    start, end = timezone.localtime(starts_at), timezone.localtime(ends_at - dt.timedelta(seconds=1))
    mask = 0
    day = start.date()
    while day <= end.date():
        first = period_of(start.hour) if day == start.date() else 0
        last = period_of(end.hour) if day == end.date() else 2
        for period in range(first, last + 1):
            mask |= 1 << (day.weekday() * 3 + period)
        day += dt.timedelta(days=1)
    return mask


@dataclass
class Schedule:
    weekly: int = 0
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    sessions: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)

    @classmethod
    def of(cls, post, sessions=None) -> Schedule:
        rows = sessions if sessions is not None else list(post.sessions.all())
        return cls(post.weekly_slots, post.starts_on, post.ends_on, [(s.starts_at, s.ends_at) for s in rows])

    def covers(self, day: dt.date) -> bool:
        return (self.starts_on is None or day >= self.starts_on) and (
            self.ends_on is None or day <= self.ends_on
        )

    @property
    def mask(self) -> int:
        mask = self.weekly
        for start, end in self.sessions:
            mask |= session_slots(start, end)
        return mask


def _ranges_overlap(a: Schedule, b: Schedule) -> bool:
    a_start, b_start = a.starts_on or dt.date.min, b.starts_on or dt.date.min
    a_end, b_end = a.ends_on or dt.date.max, b.ends_on or dt.date.max
    return a_start <= b_end and b_start <= a_end


def _session_on_weekly(weekly: Schedule, start: dt.datetime, end: dt.datetime) -> bool:
    if not weekly.weekly or not weekly.covers(timezone.localtime(start).date()):
        return False
    return bool(session_slots(start, end) & weekly.weekly)


def clash(a: Schedule, b: Schedule) -> bool:
    if a.weekly & b.weekly and _ranges_overlap(a, b):
        return True
    for s_start, s_end in a.sessions:
        if any(s_start < o_end and o_start < s_end for o_start, o_end in b.sessions):
            return True
        if _session_on_weekly(b, s_start, s_end):
            return True
    return any(_session_on_weekly(a, o_start, o_end) for o_start, o_end in b.sessions)
