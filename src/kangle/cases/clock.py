"""SLA clocks: natural hours, or working hours that skip weekends and Chinese public holidays and count
make-up workdays (调休), from the holiday calendar kept per year (``kangle.core.workcalendar``)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kangle.core import workcalendar
from kangle.core.timeutil import local


def is_workday(day: dt.date) -> bool:
    """Official workday from the street's holiday calendar (``kangle.core.workcalendar``): holidays are off,
    make-up Saturdays/Sundays are on; a year nobody has entered is flagged to the street admin."""
    return workcalendar.is_workday(day)


def _window(day: dt.date, start: dt.time, end: dt.time) -> tuple[dt.datetime, dt.datetime]:
    return (
        timezone.make_aware(dt.datetime.combine(day, start)),
        timezone.make_aware(dt.datetime.combine(day, end)),
    )


def add(
    moment: dt.datetime, seconds: float, *, working: bool, work_start: dt.time, work_end: dt.time
) -> dt.datetime:
    """The moment ``seconds`` of clock time after ``moment``."""
    if not working:
        return moment + dt.timedelta(seconds=seconds)
    remaining = dt.timedelta(seconds=seconds)
    day = local(moment).date()
    cursor = moment
    for _ in range(3660):  # ten years of days at most
        if is_workday(day):
            begin, finish = _window(day, work_start, work_end)
            begin = max(begin, cursor)
            if begin < finish:
                available = finish - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += dt.timedelta(days=1)
        cursor = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    raise ValueError("deadline more than ten years ahead")


def between(
    start: dt.datetime, end: dt.datetime, *, working: bool, work_start: dt.time, work_end: dt.time
) -> float:
    """Clock seconds from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    if end < start:
        return -between(end, start, working=working, work_start=work_start, work_end=work_end)
    if not working:
        return (end - start).total_seconds()
    total = 0.0
    day = local(start).date()
    last = local(end).date()
    while day <= last:
        if is_workday(day):
            begin, finish = _window(day, work_start, work_end)
            begin, finish = max(begin, start), min(finish, end)
            if begin < finish:
                total += (finish - begin).total_seconds()
        day += dt.timedelta(days=1)
    return total


def policy_add(policy, moment: dt.datetime, seconds: float) -> dt.datetime:
    return add(
        moment,
        seconds,
        working=policy.clock_type == "working",
        work_start=policy.work_start,
        work_end=policy.work_end,
    )


def policy_between(policy, start: dt.datetime, end: dt.datetime) -> float:
    return between(
        start,
        end,
        working=policy.clock_type == "working",
        work_start=policy.work_start,
        work_end=policy.work_end,
    )
