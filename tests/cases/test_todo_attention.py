"""The to-do home's clock lines (cases past their deadline, cases due soon) count what the desk queue they link
to lists — whether the sweep has caught up or not — stop at a cap, and name the most pressing deadline."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from cases.helpers import T0, advance, report
from kangle.cases import selectors, services
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
            # As if reported there: a case and its clocks keep the unit it was reported in.
            type(case).objects.filter(pk=case.pk).update(org=personas.tree.estate_b)
            CaseMilestone.objects.filter(case=case).update(org=personas.tree.estate_b)
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
    # Closed after its deadline: closing met the clock late (a clock is live only while its case is open).
    _clock(
        made["closed_breached"],
        state=MilestoneState.MET_LATE,
        deadline=NOW - 9 * HOUR,
        due_at=None,
        warn_at=None,
        met_at=NOW - HOUR,
    )
    CaseMilestone.objects.filter(case=made["closed_breached"], met_at__isnull=True).update(
        state=MilestoneState.MET, due_at=None, warn_at=None, met_at=NOW - HOUR
    )
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


def _five_cases_over_a_cap_of_three(personas, termite, monkeypatch, first_clock) -> None:
    """Five cases whose first clock is ``first_clock(hours)`` (hours 0 to 4), the lines capped at three."""
    monkeypatch.setattr(selectors, "ATTENTION_CAP", 3)
    monkeypatch.setattr(selectors, "ATTENTION_ROWS", 12)
    for hours in range(5):
        case = report(personas, termite, now=T0)
        _every_clock_on_time(case)
        _clock(case, **first_clock(hours))


def _breached(hours: int) -> dict:
    return {"state": MilestoneState.BREACHED, "deadline": NOW - (hours + 1) * HOUR, "due_at": None}


def test_a_line_stops_counting_at_its_cap(personas, termite, monkeypatch):
    _five_cases_over_a_cap_of_three(personas, termite, monkeypatch, _breached)
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


def _rows_read(statements, limit: int) -> int:
    """How many of the statements read at most ``limit`` rows (their own LIMIT, which ends them; a test for
    existence inside one has its own)."""
    return sum(re.search(rf"LIMIT {limit}\s*$", query["sql"]) is not None for query in statements)


def test_parts_after_the_cap_give_only_their_most_pressing_deadline(personas, termite, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _five_cases_over_a_cap_of_three(personas, termite, monkeypatch, _breached)
    unswept = report(personas, termite, now=T0)
    _every_clock_on_time(unswept)
    _clock(unswept, **_running(NOW - 10 * HOUR))  # past its deadline before the sweep came: the most pressing
    with CaptureQueriesContext(connection) as statements:
        figures = selectors.overdue_attention(personas.secretary_a, NOW)
    assert figures == selectors.Attention(3, True, NOW - 10 * HOUR)
    # The breached clocks' rows, then only the first deadline of the running ones.
    assert _rows_read(statements, 12) == 1
    assert _rows_read(statements, 1) == 1


def test_a_part_read_in_no_order_is_still_read_after_the_cap(personas, termite, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _five_cases_over_a_cap_of_three(
        personas,
        termite,
        monkeypatch,
        lambda hours: _running(NOW + (hours + 2) * HOUR, warn_at=None, warned_at=NOW - HOUR),
    )
    sooner = report(personas, termite, now=T0)
    _every_clock_on_time(sooner)
    _clock(sooner, **_running(NOW + HOUR, warn_at=NOW - dt.timedelta(minutes=1)))  # not warned yet
    with CaptureQueriesContext(connection) as statements:
        figures = selectors.warning_attention(personas.secretary_a, NOW)
    assert figures == selectors.Attention(3, True, NOW + HOUR)
    # Both parts' rows: the warning window's unswept clocks are found through their own index, not by
    # walking every running clock in due order for the first of them.
    assert _rows_read(statements, 12) == 2 and _rows_read(statements, 1) == 0


def _live(case) -> list[str]:
    return [clock.state for clock in CaseMilestone.objects.filter(case=case) if clock.is_live]


def test_every_clock_carries_its_cases_unit_and_none_outlives_an_open_case(
    personas, termite, contractor_org, photo
):
    """What the lines read on the clock alone: its unit is its case's, in every round, and a clock is live
    (running, paused, breached) only while its case is open — closing meets the clocks, late or not, and
    cancelling stops them."""
    late = report(personas, termite, now=T0, org=personas.tree.estate_a)
    _clock(late, state=MilestoneState.BREACHED, due_at=None, warn_at=None, breached_at=T0 + HOUR)
    late = advance(personas, late, photo, to="work_done", now=T0 + 30 * HOUR)
    services.case_close(actor=personas.secretary_a, case=late, now=T0 + 40 * HOUR)
    assert _live(late) == []
    assert set(CaseMilestone.objects.filter(case=late).values_list("state", flat=True)) <= {
        MilestoneState.MET,
        MilestoneState.MET_LATE,
    }
    reworked = services.case_rework(
        actor=personas.secretary_a, case=late, reason="仍有飞蚁", now=T0 + 41 * HOUR
    )
    assert _live(reworked) == [MilestoneState.RUNNING]
    cancelled = report(personas, termite, now=T0)
    _clock(cancelled, state=MilestoneState.BREACHED, due_at=None, warn_at=None, breached_at=T0 + HOUR)
    services.case_cancel(actor=personas.secretary_a, case=cancelled, reason="重复报告", now=T0 + 2 * HOUR)
    assert _live(cancelled) == []
    for case in (late, cancelled):
        assert set(CaseMilestone.objects.filter(case=case).values_list("org", flat=True)) == {case.org_id}
    assert CaseMilestone.objects.filter(case=late, round=1).exists()


def test_the_lines_read_no_case(personas, termite):
    """Each part of a clock line is one read of the clock table, never of the cases (the reason the clock
    carries its unit): at 100,000 cases reading each counted clock's case was most of the home's time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _mixed(personas, termite)
    with CaptureQueriesContext(connection) as captured:
        selectors.overdue_attention(personas.secretary_a, NOW)
        selectors.warning_attention(personas.secretary_a, NOW)
    statements = [query["sql"] for query in captured.captured_queries]
    assert statements and all('"cases_casemilestone"' in sql for sql in statements)
    assert not any('"cases_case"' in sql for sql in statements)


def test_closing_ends_a_clock_whose_milestone_names_no_known_status(personas, termite, contractor_org, photo):
    """A milestone written with a status no case reaches (data from before the admin checked it) still has its
    clock met when the case closes: no closed case keeps a live clock for the sweep and the lines to count."""
    from kangle.cases.models import Milestone

    case = report(personas, termite, now=T0)
    clock = CaseMilestone.objects.filter(case=case).select_related("milestone").order_by("pk").first()
    Milestone.objects.filter(pk=clock.milestone_id).update(met_on="no_such_status")
    case = advance(personas, case, photo, to="work_done", now=T0 + HOUR)
    assert CaseMilestone.objects.get(pk=clock.pk).is_live  # reaching "work done" did not meet it
    services.case_close(actor=personas.secretary_a, case=case, now=T0 + 60 * HOUR)
    assert _live(case) == []
    assert CaseMilestone.objects.get(pk=clock.pk).state == MilestoneState.MET_LATE
    assert selectors.overdue_attention(personas.secretary_a, T0 + 61 * HOUR).count == 0


def test_the_admin_takes_only_a_status_a_case_reaches_for_a_milestone(termite):
    from kangle.cases.admin import MilestoneForm

    fields = {"code": "visit", "name": "上门", "hours": "24", "order": "1"}
    refused = MilestoneForm(data={**fields, "met_on": "no_such_status"})
    assert not refused.is_valid() and "met_on" in refused.errors
    assert MilestoneForm(data={**fields, "met_on": "on_site"}).is_valid()
