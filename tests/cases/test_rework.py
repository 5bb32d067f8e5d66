"""Rework gets a clock: an unsatisfied rating (or the desk) reopens a finished case with the policy's rework
milestone, which the SLA sweep warns, breaches and escalates like any other; early on-site check-in needs a
reason."""

import datetime as dt

import pytest
from django.http import Http404

from cases.helpers import T0, advance, report
from kangle.cases import figures, jobs, services
from kangle.cases.models import (
    Case,
    CaseEvent,
    CaseMilestone,
    CaseStatus,
    Escalation,
    EventKind,
    MilestoneState,
)
from kangle.core.errors import NotAllowed, UserError

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)
H = dt.timedelta(hours=1)


def _finished(personas, termite, photo, *, address="康健路 300 弄 5 号 201 室"):
    case = report(personas, termite, address=address)
    Case.objects.filter(pk=case.pk).update(reporter=personas.resident)
    return advance(personas, case, photo, to="work_done")


def _unsatisfied(personas, case, *, now):
    services.case_feedback(
        actor=personas.resident, case=case, satisfied=False, rating=2, comment="还有飞蚁", now=now
    )
    case.refresh_from_db()
    return case


def _rework_clock(case, round_=1):
    return CaseMilestone.objects.select_related("milestone").get(
        case=case, milestone__on_rework=True, round=round_
    )


def test_report_does_not_start_the_rework_clock(personas, termite):
    case = report(personas, termite)
    codes = set(CaseMilestone.objects.filter(case=case).values_list("milestone__code", flat=True))
    assert codes == {"on_site", "completed"}


def test_unsatisfied_rating_starts_the_policys_rework_clock(personas, termite, contractor_org, photo):
    case = _finished(personas, termite, photo)
    reopened = T0 + 3 * H
    case = _unsatisfied(personas, case, now=reopened)
    assert case.status == CaseStatus.REWORK and case.rework_count == 1
    row = _rework_clock(case)
    hours = termite.policy.milestones.get(on_rework=True).hours
    assert row.started_at == reopened
    assert row.due_at == row.deadline == reopened + hours * H
    assert row.warn_at == reopened + hours * 0.75 * H
    assert row.next_escalation_at == row.deadline  # the chain's first step is at the due time
    event = CaseEvent.objects.get(case=case, kind=EventKind.REOPENED)
    assert event.data["round"] == 1


def test_sweep_warns_breaches_and_escalates_the_rework_clock(personas, termite, contractor_org, photo):
    case = _finished(personas, termite, photo)
    reopened = T0 + 3 * H
    case = _unsatisfied(personas, case, now=reopened)
    row = _rework_clock(case)
    assert jobs.sla_sweep(now=row.warn_at - MINUTE).warned == 0
    assert jobs.sla_sweep(now=row.warn_at).warned == 1
    assert jobs.sla_sweep(now=row.deadline - MINUTE).breached == 0
    result = jobs.sla_sweep(now=row.deadline)
    assert result.breached == 1 and result.escalated == 1
    row.refresh_from_db()
    assert row.state == MilestoneState.BREACHED
    assert Escalation.objects.filter(case_milestone=row, level=1).exists()


def test_rework_done_in_time_meets_the_clock_and_repeated_rework_is_counted(
    personas, termite, contractor_org, photo
):
    case = _finished(personas, termite, photo)
    case = _unsatisfied(personas, case, now=T0 + 3 * H)
    case = advance_rework(personas, case, photo, start=T0 + 4 * H)
    assert _rework_clock(case).state == MilestoneState.MET
    case = _unsatisfied(personas, case, now=T0 + 8 * H)
    assert case.rework_count == 2
    assert _rework_clock(case, 2).state == MilestoneState.RUNNING
    assert _rework_clock(case, 1).state == MilestoneState.MET
    other = _finished(personas, termite, photo, address="康健路 1 号")
    _unsatisfied(personas, other, now=T0 + 3 * H)
    data = figures.compute(personas.street_admin, start=T0.date(), end=T0.date())
    assert data["reworked"] == 2
    assert data["reworked_repeatedly"] == 1
    assert data["reworks"] == 3


def advance_rework(personas, case, photo, *, start):
    services.case_book(
        actor=personas.contractor, case=case, slot_start=start + H, slot_end=start + 2 * H, now=start
    )
    case.refresh_from_db()
    services.case_check_in(actor=personas.contractor, case=case, photos=[photo], now=start + H)
    services.case_finish(actor=personas.contractor, case=case, now=start + 2 * H)
    case.refresh_from_db()
    return case


def test_desk_reopens_a_closed_case_for_rework(personas, termite, contractor_org, photo):
    case = _finished(personas, termite, photo)
    services.case_close(actor=personas.secretary_a, case=case, now=T0 + H)
    case = services.case_rework(
        actor=personas.secretary_a, case=case, reason="居民来电仍有飞蚁", now=T0 + 5 * H
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.REWORK and case.closed_at is None
    assert _rework_clock(case).started_at == T0 + 5 * H


@pytest.mark.parametrize("status", ["accepted", "on_site"])
def test_rework_on_a_case_never_completed_is_refused(personas, termite, contractor_org, photo, status):
    case = advance(personas, report(personas, termite), photo, to=status)
    with pytest.raises(UserError) as error:
        services.case_rework(actor=personas.secretary_a, case=case, reason="返工")
    assert error.value.code == "never_completed" and "尚未处置完成" in error.value.zh
    assert not CaseMilestone.objects.filter(case=case, milestone__on_rework=True).exists()


def test_rework_on_a_cancelled_case_is_refused(personas, termite):
    case = report(personas, termite)
    services.case_cancel(actor=personas.secretary_a, case=case, reason="重复报事")
    with pytest.raises(UserError):
        services.case_rework(actor=personas.secretary_a, case=case, reason="返工")


def test_rework_needs_a_reason_and_the_desk(personas, termite, contractor_org, photo):
    case = _finished(personas, termite, photo)
    with pytest.raises(UserError) as error:
        services.case_rework(actor=personas.secretary_a, case=case, reason=" ")
    assert error.value.field == "reason"
    with pytest.raises(Http404):
        services.case_rework(actor=personas.secretary_b, case=case, reason="返工")
    with pytest.raises((NotAllowed, Http404)):
        services.case_rework(actor=personas.member, case=case, reason="返工")


# --- early check-in ---------------------------------------------------------------------------------------
def test_check_in_before_the_booked_slot_asks_for_a_reason(personas, termite, contractor_org, photo):
    case = advance(personas, report(personas, termite), photo, to="booked")
    slot = case.appointments.get().slot_start
    with pytest.raises(UserError) as error:
        services.case_check_in(actor=personas.contractor, case=case, photos=[photo], now=slot - MINUTE)
    assert error.value.field == "early_reason" and "提前到场原因" in error.value.zh
    case.refresh_from_db()
    assert case.status == CaseStatus.BOOKED
    services.case_check_in(
        actor=personas.contractor, case=case, photos=[photo], early_reason="居民提前回家", now=slot - MINUTE
    )
    event = CaseEvent.objects.get(case=case, kind=EventKind.CHECKED_IN)
    assert event.data == {"early_reason": "居民提前回家"}


def test_check_in_at_the_slot_start_needs_no_reason(personas, termite, contractor_org, photo):
    case = advance(personas, report(personas, termite), photo, to="booked")
    slot = case.appointments.get().slot_start
    services.case_check_in(actor=personas.contractor, case=case, photos=[photo], now=slot)
    case.refresh_from_db()
    assert case.status == CaseStatus.ON_SITE


# --- API and page -----------------------------------------------------------------------------------------
def test_api_rework(client, api, personas, termite, contractor_org, photo):
    case = _finished(personas, termite, photo)
    assert api.post(f"/cases/{case.number}/rework", {"reason": "仍有飞蚁"}).status_code == 401
    client.force_login(personas.secretary_b)
    assert api.post(f"/cases/{case.number}/rework", {"reason": "仍有飞蚁"}).status_code == 404
    client.force_login(personas.contractor)
    assert api.post(f"/cases/{case.number}/rework", {"reason": "仍有飞蚁"}).status_code in (403, 404)
    client.force_login(personas.secretary_a)
    response = api.post(f"/cases/{case.number}/rework", {"reason": "仍有飞蚁"})
    assert response.status_code == 200 and response.json()["status"] == "rework"
    again = api.post(f"/cases/{case.number}/rework", {"reason": "仍有飞蚁"})
    assert again.status_code == 409 and again.json()["code"] == "never_completed"


def test_desk_page_rework(client, personas, termite, contractor_org, photo):
    case = _finished(personas, termite, photo)
    url = f"/cases/desk/{case.number}/rework/"
    assert client.post(url, {"reason": "仍有飞蚁"}).status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.WORK_DONE  # the anonymous post went to the login page
    client.force_login(personas.secretary_b)
    assert client.post(url, {"reason": "仍有飞蚁"}).status_code == 404
    client.force_login(personas.member)
    assert client.post(url, {"reason": "仍有飞蚁"}).status_code == 403
    client.force_login(personas.secretary_a)
    page = client.get(f"/cases/desk/{case.number}/")
    assert 'id="act-rework"' in page.content.decode()
    client.post(url, {"reason": "仍有飞蚁", "version": case.version})
    case.refresh_from_db()
    assert case.status == CaseStatus.REWORK and case.rework_count == 1
