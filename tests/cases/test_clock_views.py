"""A clock as pages show it (``selectors.clock_view``): its colour from its state and times, and its time left
or overdue in words — made only when a page asks for them, in the page's language."""

from __future__ import annotations

import datetime as dt

from django.utils import translation

from kangle.cases.models import MilestoneState
from kangle.cases.selectors import clock_view
from kangle.core.timeutil import duration_words

NOW = dt.datetime(2026, 6, 20, 4, 0, tzinfo=dt.UTC)


def _row(state: str, deadline: dt.datetime, **times) -> dict:
    return {
        "milestone__name": "上门",
        "milestone__code": "onsite",
        "state": state,
        "deadline": deadline,
        "warned_at": times.get("warned_at"),
        "warn_at": times.get("warn_at"),
        "met_at": times.get("met_at"),
    }


def test_a_running_clock_is_ok_warned_or_late_with_its_time_left_or_overdue():
    later, earlier = NOW + dt.timedelta(hours=3, minutes=20), NOW - dt.timedelta(hours=2)
    with translation.override("zh-hans"):
        ok = clock_view(_row(MilestoneState.RUNNING, later, warn_at=later - dt.timedelta(hours=1)), NOW)
        assert (ok.colour, ok.remaining) == ("ok", "3小时20分钟")
        warned = clock_view(_row(MilestoneState.RUNNING, later, warned_at=earlier), NOW)
        assert warned.colour == "warn"
        # The warning time passed before the sweep came: already "warn".
        due = clock_view(_row(MilestoneState.RUNNING, later, warn_at=earlier), NOW)
        assert due.colour == "warn"
        late = clock_view(_row(MilestoneState.RUNNING, earlier), NOW)
        assert (late.colour, late.remaining) == ("bad", "2小时")
        breached = clock_view(_row(MilestoneState.BREACHED, NOW - dt.timedelta(days=1, hours=1)), NOW)
        assert (breached.colour, breached.remaining) == ("bad", "1天1小时")


def test_stopped_clocks_have_no_time_in_words():
    for state, colour in (
        (MilestoneState.PAUSED, "paused"),
        (MilestoneState.MET, "done"),
        (MilestoneState.MET_LATE, "late"),
        (MilestoneState.CANCELLED, "off"),
    ):
        view = clock_view(_row(state, NOW - dt.timedelta(hours=1), met_at=NOW), NOW)
        assert (view.colour, view.span, view.remaining) == (colour, None, "")


def test_words_resolved_once_read_as_the_language_they_were_resolved_in():
    view = clock_view(_row(MilestoneState.RUNNING, NOW + dt.timedelta(minutes=45)), NOW)
    with translation.override("en"):
        english = duration_words()
        assert view.remaining == "45 min"
    with translation.override("zh-hans"):
        assert view.remaining == "45分钟"
        # A page made its words in English: its clocks read in English whatever is active later.
        assert view.remaining_in(english) == "45 min"
