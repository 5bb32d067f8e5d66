"""The to-do home's clock lines (cases past their deadline, cases due soon) count what the desk queue they link
to lists — whether the sweep has caught up or not — stop at a cap, and name the most pressing deadline."""

from __future__ import annotations

import datetime as dt

import pytest

from cases.helpers import T0, report
from kangle.cases import selectors
from kangle.cases.models import CaseMilestone, CaseStatus, MilestoneState
from kangle.core import todo

pytestmark = pytest.mark.django_db
NOW = T0 + dt.timedelta(days=3)
HOUR = dt.timedelta(hours=1)


def _clock(case, **values):
    """Set the case's first clock as the sweep (or its absence) would leave it."""
    clock = CaseMilestone.objects.filter(case=case).order_by("pk").first()
    CaseMilestone.objects.filter(pk=clock.pk).update(**values)


def _running(deadline, **values):
    return {"state": MilestoneState.RUNNING, "deadline": deadline, "due_at": deadline, **values}


def _every_clock_on_time(case):
    CaseMilestone.objects.filter(case=case).update(**_running(NOW + 40 * HOUR, warn_at=NOW + 30 * HOUR))


def _mixed(personas, termite):
    """Cases in every clock state, some outside the secretary's subtree or closed."""
    made = {}
    for name in (
        "breached",
        "late_unswept",
        "warned",
        "warning_unswept",
        "warning_unswept_sooner",
        "calm",
        "late_and_warned",
        "warned_then_late",
        "closed_breached",
        "elsewhere_breached",
    ):
        case = report(personas, termite, now=T0)
        if name.startswith("elsewhere"):
            type(case).objects.filter(pk=case.pk).update(org=personas.tree.estate_b)
        _every_clock_on_time(case)
        made[name] = case
    _clock(
        made["breached"], state=MilestoneState.BREACHED, deadline=NOW - 5 * HOUR, due_at=None, breached_at=NOW
    )
    _clock(made["late_unswept"], **_running(NOW - 2 * HOUR))  # the sweep has not come yet
    _clock(made["warned"], **_running(NOW + HOUR, warn_at=None, warned_at=NOW - HOUR))
    _clock(made["warning_unswept"], **_running(NOW + 2 * HOUR, warn_at=NOW - 10 * dt.timedelta(minutes=1)))
    # Warned later but due sooner: the line's deadline is the earliest deadline, not the earliest warning.
    _clock(
        made["warning_unswept_sooner"], **_running(NOW + 0.5 * HOUR, warn_at=NOW - dt.timedelta(minutes=1))
    )
    _clock(made["late_and_warned"], **_running(NOW - HOUR))
    CaseMilestone.objects.filter(case=made["late_and_warned"]).exclude(
        pk=CaseMilestone.objects.filter(case=made["late_and_warned"]).order_by("pk").first().pk
    ).update(**_running(NOW + HOUR, warn_at=None, warned_at=NOW - HOUR))
    # Warned, then past its deadline before the sweep came back: late, so not due soon (the warning line
    # asks no time of warned clocks and relies on the case test for this).
    _clock(made["warned_then_late"], **_running(NOW - 3 * HOUR, warn_at=None, warned_at=NOW - 6 * HOUR))
    _clock(made["closed_breached"], state=MilestoneState.BREACHED, deadline=NOW - 9 * HOUR, due_at=None)
    type(made["closed_breached"]).objects.filter(pk=made["closed_breached"].pk).update(
        status=CaseStatus.CLOSED
    )
    _clock(made["elsewhere_breached"], state=MilestoneState.BREACHED, deadline=NOW - 9 * HOUR, due_at=None)
    return made


def _queue_numbers(user, sla):
    listed = selectors.filter_cases(selectors.staff_cases(user), {"sla": sla}, NOW)
    return set(listed.values_list("number", flat=True))


def test_the_lines_count_what_their_queues_list(personas, termite):
    made = _mixed(personas, termite)
    user = personas.secretary_a
    overdue = selectors.overdue_attention(user, NOW)
    assert _queue_numbers(user, "overdue") == {
        made[name].number for name in ("breached", "late_unswept", "late_and_warned", "warned_then_late")
    }
    assert (overdue.count, overdue.capped) == (4, False)
    assert overdue.oldest == NOW - 5 * HOUR  # the breached clock, not the closed or the outside one
    warning = selectors.warning_attention(user, NOW)
    assert _queue_numbers(user, "warning") == {
        made[name].number for name in ("warned", "warning_unswept", "warning_unswept_sooner")
    }
    assert (warning.count, warning.capped, warning.oldest) == (3, False, NOW + 0.5 * HOUR)
    # The outsider's own subtree holds only the case there.
    assert selectors.overdue_attention(personas.secretary_b, NOW).count == 1
    assert selectors.warning_attention(personas.secretary_b, NOW).count == 0


def test_a_line_stops_counting_at_its_cap(personas, termite, monkeypatch):
    monkeypatch.setattr(selectors, "ATTENTION_CAP", 3)
    monkeypatch.setattr(selectors, "ATTENTION_ROWS", 12)
    for hours in range(5):
        case = report(personas, termite, now=T0)
        _every_clock_on_time(case)
        _clock(case, state=MilestoneState.BREACHED, deadline=NOW - (hours + 1) * HOUR, due_at=None)
    figures = selectors.overdue_attention(personas.secretary_a, NOW)
    assert (figures.count, figures.capped, figures.oldest) == (3, True, NOW - 5 * HOUR)
    (line,) = [x for x in todo.lines_for(personas.secretary_a, now=NOW) if x.key == "cases.breached"]
    assert line.count_text == "3+"
    # Cut short by its rows before reaching the cap: a lower bound, said as one.
    monkeypatch.setattr(selectors, "ATTENTION_CAP", 10)
    monkeypatch.setattr(selectors, "ATTENTION_ROWS", 4)
    assert selectors.overdue_attention(personas.secretary_a, NOW) == selectors.Attention(
        4, True, NOW - 5 * HOUR
    )
