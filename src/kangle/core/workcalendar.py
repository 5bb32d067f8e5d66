"""Which days are workdays: the public-holiday calendar kept per year in the database.

A year comes from the ``chinesecalendar`` package (the State Council's published schedule, read straight
from the package) or, for a year the package does not have yet, is entered by hand by a street admin. A year neither covers is *not* silently treated as Monday–Friday: ``uncovered_years`` names it, the
street admin's home page shows it as a warning, and the clock counts Monday–Friday for it only until the
year is entered (a deadline must still be set; the warning says the rest).
"""

from __future__ import annotations

import datetime as dt
import logging
import time

import chinese_calendar
from chinese_calendar import constants as published
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kangle.core import audit
from kangle.core.errors import UserError
from kangle.core.models import CalendarDay, CalendarSource, CalendarYear
from kangle.core.timeutil import resolve_now

log = logging.getLogger(__name__)
# Each process keeps a year's exceptions for a minute: a year entered by hand reaches every worker soon.
_CACHE_SECONDS = 60
_cache: dict[int, tuple[float, dict[dt.date, bool] | None]] = {}


_PACKAGE_YEARS = frozenset(day.year for day in published.holidays)


def package_years() -> frozenset[int]:
    return _PACKAGE_YEARS


def _exceptions(year: int) -> dict[dt.date, bool] | None:
    cached = _cache.get(year)
    if cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS:
        return cached[1]
    row = CalendarYear.objects.filter(year=year).first()
    value = (
        None
        if row is None
        else dict(CalendarDay.objects.filter(calendar_year=row).values_list("day", "is_workday"))
    )
    if value is None:
        log.warning("no public-holiday calendar for %s: counting Monday to Friday until it is entered", year)
    _cache[year] = (time.monotonic(), value)
    return value


def forget_cache() -> None:
    _cache.clear()


def is_workday(day: dt.date) -> bool:
    if day.year in _PACKAGE_YEARS:
        return chinese_calendar.is_workday(day)
    exceptions = _exceptions(day.year)
    if exceptions and day in exceptions:
        return exceptions[day]
    return day.weekday() < 5


def is_covered(year: int) -> bool:
    return year in _PACKAGE_YEARS or entered(year).exists()


def unpublished_needed(today: dt.date) -> list[int]:
    """Years the clocks need soon (this year, and next year from November on) that the package does not
    publish: each is covered only if a street admin has entered it."""
    needed = [today.year] + ([today.year + 1] if today.month >= 11 else [])
    return [year for year in needed if year not in _PACKAGE_YEARS]


def entered(year: int):
    """The year's row if a street admin has entered it: a read a caller may count with its own
    (``rawrows.bound_counts``), as the workbench home does."""
    return CalendarYear.objects.filter(year=year).values("pk")


def uncovered_years(today: dt.date) -> list[int]:
    """Years the clocks need soon that no calendar covers."""
    return [year for year in unpublished_needed(today) if not is_covered(year)]


def _parse(lines: str, *, field: str, year: int) -> dict[dt.date, str]:
    found: dict[dt.date, str] = {}
    for index, line in enumerate([ln.strip() for ln in (lines or "").splitlines() if ln.strip()], start=1):
        text, _sep, name = line.partition(" ")
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise UserError(
                "bad_date",
                _("Line %(index)s: the date should read like %(year)s-01-01"),
                field=field,
                index=index,
                year=year,
            ) from None
        if day.year != year:
            raise UserError(
                "wrong_year", _("Line %(index)s is not in %(year)s"), field=field, index=index, year=year
            )
        found[day] = name.strip()[:50]
    return found


@transaction.atomic
def calendar_year_set(
    *, actor, year: int, holidays: str, workdays: str, now: dt.datetime | None = None
) -> CalendarYear:
    """Enter (or correct) a year by hand: holidays and make-up workdays, one "YYYY-MM-DD name" a line.

    Permission is checked by the caller's predicate (street admins); deadlines already stored keep their
    times, new clocks count on the entered calendar.
    """
    if not 2000 <= year <= 2100:
        raise UserError("bad_year", _("Invalid year"), field="year")
    if year in _PACKAGE_YEARS:
        raise UserError(
            "published_year",
            _("%(year)s is published (from the chinesecalendar package); it is not entered by hand"),
            field="year",
            year=year,
        )
    moment = resolve_now(now)
    off = _parse(holidays, field="holidays", year=year)
    on = _parse(workdays, field="workdays", year=year)
    both = sorted(set(off) & set(on))
    if both:
        raise UserError(
            "day_twice", _("%(value)s is both a holiday and a workday"), field="workdays", value=both[0]
        )
    row, _created = CalendarYear.objects.select_for_update().get_or_create(
        year=year, defaults={"source": CalendarSource.MANUAL, "updated_at": moment}
    )
    CalendarDay.objects.filter(calendar_year=row).delete()
    days = [CalendarDay(calendar_year=row, day=d, is_workday=False, name=n or "假日") for d, n in off.items()]
    days += [
        CalendarDay(calendar_year=row, day=d, is_workday=True, name=n or "调休上班") for d, n in on.items()
    ]
    CalendarDay.objects.bulk_create(sorted(days, key=lambda d: d.day))
    CalendarYear.objects.filter(pk=row.pk).update(
        source=CalendarSource.MANUAL,
        updated_at=moment,
        updated_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit.record(
        actor=actor,
        verb="calendar.set_year",
        obj=row,
        details={"holidays": len(off), "workdays": len(on)},
        now=moment,
    )
    transaction.on_commit(forget_cache)
    return CalendarYear.objects.get(pk=row.pk)
