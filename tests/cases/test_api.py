"""/api/v1/cases/ and Open311 GeoReport v2 at /open311/v2/."""

import datetime as dt
import json
from xml.etree import ElementTree as ET

import pytest

from cases.helpers import RESIDENT_PHONE, advance, report, upload, walk_in_body
from kangle.accounts.services import token_issue
from kangle.cases.models import Case, CaseStatus

pytestmark = pytest.mark.django_db


def test_api_list_scoped_and_paginated(client, api, personas, termite):
    case = report(personas, termite)
    client.force_login(personas.secretary_a)
    body = api.get("/cases/").json()
    assert body["count"] == 1 and body["items"][0]["number"] == case.number
    assert body["items"][0]["phone"] == "138****5678"
    assert [c["code"] for c in body["items"][0]["clocks"]] == ["on_site", "completed"]
    client.force_login(personas.secretary_b)
    assert api.get("/cases/").json()["count"] == 0
    assert api.get(f"/cases/{case.number}").status_code == 404
    assert api.post(f"/cases/{case.number}/accept").status_code == 404


def test_api_anonymous_is_401(api, personas, termite):
    assert api.get("/cases/").status_code == 401


def test_api_list_query_count_is_flat(client, api, personas, termite, django_assert_max_num_queries):
    client.force_login(personas.secretary_a)
    report(personas, termite, address="A 1")
    with django_assert_max_num_queries(20) as one:
        api.get("/cases/")
    report(personas, termite, address="A 2")
    report(personas, termite, address="A 3")
    with django_assert_max_num_queries(20) as three:
        api.get("/cases/")
    assert len(one.captured_queries) == len(three.captured_queries)


def test_api_flow_with_errors(client, api, personas, termite, contractor_org):
    client.force_login(personas.secretary_a)
    created = api.post(
        "/cases/",
        {
            "category": "termite",
            "org": personas.tree.estate_a.code,
            "title": "飞蚁",
            "phone": RESIDENT_PHONE,
            "address": "康健路 9 号",
        },
    )
    assert created.status_code == 201
    number = created.json()["number"]
    again = api.post(
        "/cases/",
        {
            "category": "termite",
            "org": personas.tree.estate_a.code,
            "title": "飞蚁",
            "phone": RESIDENT_PHONE,
            "address": "康健路9号",
        },
    )
    assert again.json()["duplicates"] == [number]
    bad = api.post(f"/cases/{number}/dispatch", {})
    assert bad.status_code == 409 and bad.json()["code"] == "transition_not_allowed"
    assert "不能执行" in bad.json()["message"] and bad.json()["message_en"]
    assert api.post(f"/cases/{number}/accept").json()["status"] == "accepted"
    assert api.post(f"/cases/{number}/dispatch", {}).json()["contractor"] == contractor_org.name
    client.force_login(personas.contractor)
    assert api.post(f"/cases/{number}/contractor-accept").json()["status"] == "assigned"
    past = api.post(
        f"/cases/{number}/book",
        {"slot_start": "2020-01-01T10:00:00+08:00", "slot_end": "2020-01-01T11:00:00+08:00"},
    )
    assert past.status_code == 400 and past.json()["field"] == "slot_start"
    early = client.post(f"/api/v1/cases/{number}/check-in", {"photo": upload()})
    assert early.status_code == 409 and early.json()["code"] == "no_booking"
    start = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    booked = api.post(
        f"/cases/{number}/book",
        {"slot_start": start.isoformat(), "slot_end": (start + dt.timedelta(hours=1)).isoformat()},
    )
    assert booked.json()["status"] == "booked"
    bad_photo = client.post(f"/api/v1/cases/{number}/check-in", {"photo": upload("a.txt", b"hello")})
    assert bad_photo.status_code == 400 and bad_photo.json()["code"] == "not_an_image"
    checked = client.post(f"/api/v1/cases/{number}/check-in", {"photo": upload(), "early_reason": "居民在家"})
    assert checked.status_code == 200 and checked.json()["status"] == "on_site"
    assert api.post(f"/cases/{number}/finish", {"note": "ok"}).json()["status"] == "work_done"
    client.force_login(personas.member)
    assert api.post(f"/cases/{number}/feedback", {"satisfied": True, "rating": 5}).status_code == 404


def test_api_contractor_on_someone_elses_case_is_404(
    client, api, personas, termite, contractor_org, other_contractor, photo
):
    case = advance(personas, report(personas, termite), photo, to="dispatched")
    client.force_login(other_contractor[1])
    assert api.post(f"/cases/{case.number}/contractor-accept").status_code == 404
    assert api.get(f"/cases/{case.number}").status_code == 404


def test_api_figures(client, api, personas, termite):
    report(personas, termite)
    client.force_login(personas.secretary_a)
    assert api.get("/cases/figures", start="2026-06-01", end="2026-06-30").json()["cases"] == 1
    client.force_login(personas.member)
    assert api.get("/cases/figures").status_code == 404


# --- Open311 ----------------------------------------------------------------------------------------------
@pytest.fixture
def api_key(personas):
    _row, token = token_issue(actor=personas.superuser, user=personas.secretary_a, name="12345 hotline")
    return token


def test_open311_services_json_and_xml(client, termite):
    services = client.get("/open311/v2/services.json").json()
    termite_service = next(s for s in services if s["service_code"] == "termite")
    assert termite_service["service_name"] == "白蚁" and termite_service["metadata"] is False
    assert "pests" not in [s["service_code"] for s in services]  # a parent category is not a service
    xml = ET.fromstring(client.get("/open311/v2/services.xml").content)  # noqa: S314 (our own output)
    assert xml.tag == "services" and "termite" in [s.findtext("service_code") for s in xml.findall("service")]
    definition = client.get("/open311/v2/services/termite.json").json()
    assert definition == {"service_code": "termite", "attributes": []}
    missing = client.get("/open311/v2/services/nope.xml")
    assert missing.status_code == 404
    error = ET.fromstring(missing.content)  # noqa: S314
    assert error.tag == "errors" and error.find("error").findtext("code") == "404"


def test_open311_post_and_get(client, personas, termite, api_key):
    response = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": api_key,
            "service_code": "termite",
            "address_id": personas.tree.estate_a.code,
            "address_string": "康健路 300 弄 7 号",
            "description": "楼道飞蚁",
            "phone": RESIDENT_PHONE,
            "lat": "31.164",
            "long": "121.423",
        },
    )
    assert response.status_code == 201
    number = response.json()[0]["service_request_id"]
    case = Case.objects.get(number=number)
    assert case.channel == "open311" and case.org == personas.tree.estate_a
    one = client.get(f"/open311/v2/requests/{number}.json").json()[0]
    assert one["status"] == "open" and one["service_code"] == "termite"
    assert one["description"] == "" and RESIDENT_PHONE not in json.dumps(one) and "7 号" not in one["address"]
    expected = dt.datetime.fromisoformat(one["expected_datetime"])
    assert abs(expected - (case.reported_at + dt.timedelta(hours=48))) < dt.timedelta(milliseconds=1)
    with_key = client.get(f"/open311/v2/requests/{number}.json", {"api_key": api_key}).json()[0]
    assert with_key["description"] == "楼道飞蚁"
    listing = client.get("/open311/v2/requests.xml", {"status": "open", "service_code": "termite"})
    root = ET.fromstring(listing.content)  # noqa: S314
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [number]
    assert client.get("/open311/v2/requests.json", {"status": "closed"}).json() == []


def test_open311_status_mapping_closed(client, personas, termite):
    case = report(personas, termite)
    from kangle.cases import services

    services.case_cancel(actor=personas.secretary_a, case=case, reason="重复")
    row = client.get(f"/open311/v2/requests/{case.number}.json").json()[0]
    assert row["status"] == "closed" and row["status_notes"].startswith("cancelled")


@pytest.mark.parametrize(
    ("data", "status", "fragment"),
    [
        ({"service_code": "nope", "address_id": "KJ-C01-E1"}, 400, "service_code not found"),
        ({"service_code": "termite"}, 400, "location is required"),
        ({"service_code": "termite", "lat": "abc", "long": "121"}, 400, "lat must be a number"),
        ({"service_code": "termite", "lat": "95", "long": "121"}, 400, "out of range"),
        ({"service_code": "termite", "address_id": "KJ-C08-E1"}, 400, "address_id not found"),
        ({"service_code": "termite", "address_id": "KJ-C01-E1", "phone": "12"}, 400, "手机号格式不正确"),
    ],
)
def test_open311_post_bad_input(client, personas, termite, api_key, data, status, fragment):
    response = client.post("/open311/v2/requests.json", {"api_key": api_key, **data})
    assert response.status_code == status
    body = response.json()
    assert isinstance(body, list) and body[0]["code"] == status and fragment in body[0]["description"]
    assert not Case.objects.exists()


def test_open311_post_bad_or_missing_api_key(client, personas, termite):
    for key in ("", "kg_nope_nope"):
        response = client.post(
            "/open311/v2/requests.xml", {"api_key": key, "service_code": "termite", "address_id": "KJ-C01-E1"}
        )
        assert response.status_code == 403
        assert ET.fromstring(response.content).find("error").findtext("code") == "403"  # noqa: S314
    assert not Case.objects.exists()


def test_open311_api_key_of_non_staff_is_refused(client, personas, termite):
    _row, token = token_issue(actor=personas.superuser, user=personas.member, name="x")
    response = client.post(
        "/open311/v2/requests.json",
        {"api_key": token, "service_code": "termite", "lat": "31.1", "long": "121.4"},
    )
    assert response.status_code == 403


def test_open311_outsider_key_sees_no_cases_of_others(client, personas, termite):
    case = report(personas, termite)
    _row, token = token_issue(actor=personas.superuser, user=personas.secretary_b, name="x")
    assert client.get(f"/open311/v2/requests/{case.number}.json", {"api_key": token}).status_code == 404


def test_open311_bad_format_and_filters(client, termite):
    assert client.get("/open311/v2/services.csv").status_code == 404
    assert client.get("/open311/v2/requests.json", {"status": "weird"}).status_code == 400
    assert client.get("/open311/v2/requests.json", {"start_date": "yesterday"}).status_code == 400
    assert client.get("/open311/v2/requests/MQ0.json").status_code == 404


def test_open311_lat_long_only_places_case_at_key_users_unit(client, personas, termite, api_key):
    response = client.post(
        "/open311/v2/requests.json",
        {"api_key": api_key, "service_code": "termite", "lat": "31.1640", "long": "121.4230"},
    )
    assert response.status_code == 201
    case = Case.objects.get()
    assert case.org == personas.tree.community_a and str(case.latitude) == "31.164000"
    assert case.status == CaseStatus.REPORTED  # the desk refines the place


def test_duplicate_hint_names_no_case_outside_the_reporters_reach(client, personas, termite):
    """A secretary of another community logging a case at the same address text hears of none of ours."""
    from cases.helpers import report as report_case

    ours = report_case(personas, termite, address="康健路 300 弄 5 号")
    client.force_login(personas.secretary_b)
    answer = client.post(
        "/api/v1/cases/",
        walk_in_body(termite, personas.tree.estate_b, "康健路 300 弄 5 号"),
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["duplicates"] == [] and ours.number not in answer.content.decode()
    client.force_login(personas.secretary_a)
    again = client.post(
        "/api/v1/cases/",
        walk_in_body(termite, personas.tree.estate_a, "康健路300弄5号"),
        content_type="application/json",
    )
    assert ours.number in again.json()["duplicates"]


def test_a_desk_report_by_someone_without_a_unit_or_outside_it_is_404(client, personas, termite):
    """Only staff log a desk case, and only in their subtree: anyone else (a resident, a contractor, staff of
    another community) is answered 404 for the unit, as for a unit that does not exist, and nothing is
    written."""
    from kangle.cases.models import Case

    before = Case.objects.count()
    attempts = [
        (personas.resident, personas.tree.estate_a),
        (personas.contractor, personas.tree.estate_a),
        (personas.secretary_b, personas.tree.estate_a),
    ]
    for person, unit in attempts:
        client.force_login(person)
        for code in (unit.code, "NO-SUCH-UNIT"):
            body = {**walk_in_body(termite, unit, "康健路 300 弄 5 号"), "org": code}
            answer = client.post("/api/v1/cases/", body, content_type="application/json")
            assert answer.status_code == 404, (person.username, code, answer.content[:300])
    assert Case.objects.count() == before


def test_open311_keyed_reads_are_masked_and_audited_public_coordinates_are_coarse(
    client, personas, termite, api_key
):
    from kangle.core.models import AuditEvent

    response = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": api_key,
            "service_code": "termite",
            "address_id": personas.tree.estate_a.code,
            "address_string": "康健路 300 弄 7 号 502 室",
            "lat": "31.164321",
            "long": "121.423456",
        },
    )
    number = response.json()[0]["service_request_id"]
    public = client.get(f"/open311/v2/requests/{number}.json").json()[0]
    assert str(public["lat"]) == "31.164" and str(public["long"]) == "121.423"
    assert not AuditEvent.objects.filter(verb="case.api_read").exists()
    for url in (f"/open311/v2/requests/{number}.json", "/open311/v2/requests.json"):
        keyed = client.get(url, {"api_key": api_key})
        row = keyed.json()[0]
        assert "502" not in row["address"] and "7 号" not in row["address"]
        assert "4321" not in json.dumps(row) and "3456" not in json.dumps(row)
    events = AuditEvent.objects.filter(verb="case.api_read")
    assert events.count() == 2 and all(number in e.details["numbers"] for e in events)


def test_resident_case_api_shows_only_the_public_events_the_page_shows(
    client, personas, termite, contractor_org, photo
):
    from kangle.cases import services

    case = advance(personas, report(personas, termite), photo, to="assigned")
    Case.objects.filter(pk=case.pk).update(reporter=personas.resident)
    services.extension_request(
        actor=personas.contractor,
        case=case,
        milestone_code="completed",
        hours=12,
        reason="内部原因：药剂缺货",
    )
    client.force_login(personas.resident)
    mine = client.get(f"/api/v1/cases/{case.number}")
    assert mine.status_code == 200 and mine.json()["events"]
    assert "药剂缺货" not in json.dumps(mine.json(), ensure_ascii=False)
    page = client.get(f"/cases/mine/{case.number}/")
    assert page.status_code == 200 and "药剂缺货" not in page.content.decode()
    client.force_login(personas.secretary_a)
    staff = client.get(f"/api/v1/cases/{case.number}").json()
    assert "药剂缺货" in json.dumps(staff, ensure_ascii=False)
