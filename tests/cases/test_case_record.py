"""A case's record (its clocks, timeline, photos, booked visit, extension requests and feedback) is read by one
statement on a database server (each read apart on SQLite), and every page and the API show from it what
they showed before: the desk's page, the contractor's and the resident's phone pages, the API detail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.helpers import T0, advance, report
from kangle.cases import selectors, services
from kangle.cases.models import Appointment, CaseEvent, CaseMilestone, ExtensionRequest, Feedback

pytestmark = pytest.mark.django_db

RECORD_TABLES = (
    '"cases_casemilestone"',
    '"cases_caseevent"',
    '"cases_casephoto"',
    '"cases_appointment"',
    '"cases_extensionrequest"',
    '"cases_feedback"',
)


def login(client, user):
    client.force_login(user)


# Where a statement is a round trip (a database server) the record is one; on SQLite each read runs alone.
ONE_READ = connection.vendor != "sqlite"


def _statements_for(parts: tuple[str, ...]) -> int:
    return 1 if ONE_READ else len(parts)


def _record_statements(captured) -> list[str]:
    return [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith("SELECT")
        and any(table in query["sql"] for table in RECORD_TABLES)
    ]


@pytest.fixture
def worked(personas, termite, contractor_org, photo):
    """A case with its visit booked, two extension requests (one decided, one pending) and a rating."""
    case = advance(personas, report(personas, termite), photo, to="booked")
    first = services.extension_request(
        actor=personas.contractor, case=case, milestone_code="completed", hours=12, reason="药剂起效", now=T0
    )
    services.extension_decide(actor=personas.area_admin, request=first, approve=False, now=T0)
    services.extension_request(
        actor=personas.contractor,
        case=case,
        milestone_code="completed",
        hours=6,
        reason="等待复查",
        now=T0 + dt.timedelta(minutes=30),
    )
    Feedback.objects.create(case=case, satisfied=True, rating=4, comment="师傅很细心", given_at=T0)
    return case


def test_the_record_gives_what_each_read_gives_alone_with_one_statement(worked):
    moment = T0 + dt.timedelta(hours=3)
    with CaptureQueriesContext(connection) as captured:
        record = selectors.case_record(worked.pk, moment, selectors.DESK_RECORD)
    assert len(captured.captured_queries) == _statements_for(selectors.DESK_RECORD)
    clocks = (
        CaseMilestone.objects.filter(case=worked).select_related("milestone").order_by("milestone__order")
    )
    assert record.clocks == [selectors.clock_view(row, moment) for row in clocks]
    events = list(CaseEvent.objects.filter(case=worked).order_by("at", "id"))
    assert [row["id"] for row in record.events] == [event.pk for event in events]
    (booked,) = Appointment.objects.filter(case=worked)
    assert record.appointment == {"slot_start": booked.slot_start, "slot_end": booked.slot_end}
    newest_first = ExtensionRequest.objects.filter(case_milestone__case=worked).order_by("-requested_at")
    assert [(row["pk"], row["hours"], row["status"]) for row in record.extensions] == [
        (request.pk, request.hours, request.status) for request in newest_first
    ]
    assert record.extensions[0]["milestone_name"] == newest_first[0].case_milestone.milestone.name
    assert str(record.extensions[1]["status_label"]) == str(newest_first[1].get_status_display())
    assert record.feedback == {"rating": 4, "satisfied": True, "comment": "师傅很细心"}


def test_a_case_with_nothing_around_it_has_an_empty_record(personas, termite):
    case = report(personas, termite)
    record = selectors.case_record(case.pk, T0, ("appointment", "extensions", "feedback", "photos"))
    assert (record.appointment, record.extensions, record.feedback, record.photos) == (None, [], None, {})
    assert (record.clocks, record.events) == ([], [])  # not asked


def test_the_desk_page_shows_the_record_read_by_one_statement(client, personas, worked):
    login(client, personas.area_admin)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(f"/cases/desk/{worked.number}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    html = page.content.decode()
    assert "+6h — 等待复查" in html and "+12h — 药剂起效" in html
    assert "待审核" in html  # the pending request's status, in the page's language
    assert html.count("/approve/") == 1  # only the pending request can be decided
    assert "4★" in html and "师傅很细心" in html
    (booked,) = Appointment.objects.filter(case=worked)
    assert booked.slot_start.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%m-%d %H:%M") in html
    assert len(_record_statements(captured)) == _statements_for(selectors.DESK_RECORD), _record_statements(
        captured
    )


def test_the_phone_pages_and_the_api_read_their_record_with_one_statement(client, api, personas, worked):
    login(client, personas.contractor)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(f"/cases/c/{worked.number}/")
    assert page.status_code == 200
    (booked,) = Appointment.objects.filter(case=worked)
    zone = dt.timezone(dt.timedelta(hours=8))
    slot = f"{booked.slot_start.astimezone(zone):%m-%d %H:%M}–{booked.slot_end.astimezone(zone):%H:%M}"
    assert slot in page.content.decode()  # the booked visit, from the record
    assert len(_record_statements(captured)) == _statements_for(selectors.VISIT_RECORD), _record_statements(
        captured
    )
    login(client, personas.secretary_a)
    with CaptureQueriesContext(connection) as captured:
        answer = api.get(f"/cases/{worked.number}")
    assert answer.status_code == 200
    body = answer.json()
    assert [event["kind"] for event in body["events"]] == list(
        CaseEvent.objects.filter(case=worked).order_by("at", "id").values_list("kind", flat=True)
    )
    assert len(body["clocks"]) == CaseMilestone.objects.filter(case=worked).count()
    assert len(_record_statements(captured)) == _statements_for(selectors.API_RECORD), _record_statements(
        captured
    )


def test_a_reworked_cases_clocks_come_round_by_round(personas, termite, contractor_org, photo):
    """Two reopenings give two clocks of the rework milestone: the record lists the report's clocks, then the
    first reopening's, then the second's, on every read (the same milestone twice is not left to chance)."""
    from cases.test_rework import advance_rework

    case = advance(personas, report(personas, termite), photo, to="work_done")
    services.case_close(actor=personas.secretary_a, case=case, now=T0 + dt.timedelta(hours=1))
    starts = [T0 + dt.timedelta(hours=5), T0 + dt.timedelta(hours=30)]
    for start in starts:
        case = services.case_rework(actor=personas.secretary_a, case=case, reason="仍有飞蚁", now=start)
        if start is starts[0]:
            case = advance_rework(personas, case, photo, start=start + dt.timedelta(minutes=1))
    rework = [
        clock.deadline
        for clock in CaseMilestone.objects.filter(case=case, milestone__on_rework=True).order_by("round")
    ]
    assert len(rework) == 2 and rework[0] < rework[1]
    for parts in (selectors.DESK_RECORD, selectors.API_RECORD):
        clocks = selectors.case_record(case.pk, T0 + dt.timedelta(days=2), parts).clocks
        reworked = [clock.deadline for clock in clocks if clock.code == clocks[-1].code]
        assert reworked == rework
        assert selectors.clocks_by_case([case.pk], T0)[case.pk] == [
            selectors.clock_view(row, T0)
            for row in CaseMilestone.objects.filter(case=case)
            .order_by("round", "milestone__order")
            .select_related("milestone")
        ]
