"""Open311 GeoReport v2 in full: discovery, service attributes, media_url, long descriptions, status lists,
the reporting window, and a POST by coordinates landing in the street of the location with its clocks."""

import datetime as dt
import json
from decimal import Decimal
from xml.etree import ElementTree as ET

import pytest

from cases.helpers import report
from kangle.accounts.services import token_issue
from kangle.cases import services
from kangle.cases.models import Case, CaseMilestone, QuestionType, ServiceQuestion
from kangle.core.errors import UserError
from kangle.core.timeutil import now as current_time
from kangle.orgs.models import Venue, VenueKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_key(personas):
    _row, token = token_issue(actor=personas.superuser, user=personas.secretary_a, name="12345 hotline")
    return token


@pytest.fixture
def street_key(personas):
    _row, token = token_issue(actor=personas.superuser, user=personas.street_admin, name="city hotline")
    return token


@pytest.fixture
def questions(termite):
    ServiceQuestion.objects.create(
        category=termite,
        code="where",
        question="在哪里发现白蚁？",
        datatype=QuestionType.SINGLE,
        required=True,
        values=[{"key": "door", "name": "门框"}, {"key": "floor", "name": "地板"}],
        order=1,
    )
    ServiceQuestion.objects.create(
        category=termite, code="swarms", question="飞蚁大约多少只？", datatype=QuestionType.NUMBER, order=2
    )
    ServiceQuestion.objects.create(
        category=termite,
        code="rooms",
        question="哪些房间？",
        datatype=QuestionType.MULTI,
        values=[{"key": "kitchen", "name": "厨房"}, {"key": "bedroom", "name": "卧室"}],
        order=3,
    )
    return termite


def _post(client, key, **data):
    return client.post("/open311/v2/requests.json", {"api_key": key, "service_code": "termite", **data})


# --- discovery and definitions ----------------------------------------------------------------------------
def test_discovery_json_and_xml(client):
    body = client.get("/open311/discovery.json").json()
    endpoint = body["endpoints"][0]
    assert endpoint["url"].endswith("/open311/v2/") and "GeoReport_v2" in endpoint["specification"]
    assert "text/xml" in endpoint["formats"]
    root = ET.fromstring(client.get("/open311/discovery.xml").content)  # noqa: S314 (our own output)
    assert root.tag == "discovery"
    assert root.find("endpoints/endpoint/url").text.endswith("/open311/v2/")
    assert client.get("/open311/discovery.csv").status_code == 404


def test_category_questions_are_service_attributes(client, questions):
    services_list = client.get("/open311/v2/services.json").json()
    termite = next(s for s in services_list if s["service_code"] == "termite")
    assert termite["metadata"] is True
    assert next(s for s in services_list if s["service_code"] == "noise")["metadata"] is False
    definition = client.get("/open311/v2/services/termite.json").json()
    where, swarms, rooms = definition["attributes"]
    assert where["code"] == "where" and where["required"] is True and where["datatype"] == "singlevaluelist"
    assert where["description"] == "在哪里发现白蚁？" and where["values"][0] == {
        "key": "door",
        "name": "门框",
    }
    assert swarms["datatype"] == "number" and "values" not in swarms
    assert rooms["datatype"] == "multivaluelist"
    xml = ET.fromstring(client.get("/open311/v2/services/termite.xml").content)  # noqa: S314
    codes = [node.findtext("code") for node in xml.findall("attributes/attribute")]
    assert codes == ["where", "swarms", "rooms"]
    assert xml.find("attributes/attribute/values/value/key").text == "door"


# --- POST ------------------------------------------------------------------------------------------------
def test_post_with_answers_media_url_and_long_description(client, personas, questions, api_key):
    description = "飞" * 4000
    response = _post(
        client,
        api_key,
        address_id=personas.tree.estate_a.code,
        description=description,
        media_url="https://img.example.org/termite/1.jpg",
        **{
            "attribute[where]": "door",
            "attribute[swarms]": "30",
            "attribute[rooms][]": ["kitchen", "bedroom"],
        },
    )
    assert response.status_code == 201, response.content
    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    assert case.description == description
    assert case.answers == {"where": "door", "swarms": "30", "rooms": ["kitchen", "bedroom"]}
    assert case.media_url == "https://img.example.org/termite/1.jpg"
    with_key = client.get(f"/open311/v2/requests/{case.number}.json", {"api_key": api_key}).json()[0]
    assert with_key["media_url"] == case.media_url


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"attribute[colour]": "red", "attribute[where]": "door"}, "attribute[colour]"),
        ({"attribute[where]": "door", "attribute[swarms]": "很多"}, "must be a number"),
        ({"attribute[where]": "roof"}, "not one of the choices"),
        ({}, "attribute[where]"),
        ({"attribute[where]": "door", "attribute[rooms][]": ["kitchen", "attic"]}, "attic"),
        ({"attribute[where]": "door", "media_url": "javascript:alert(1)"}, "media_url"),
        ({"attribute[where]": "door", "description": "飞" * 4001}, "4000"),
    ],
)
def test_post_bad_attributes_are_refused(client, personas, questions, api_key, extra, fragment):
    response = _post(client, api_key, address_id=personas.tree.estate_a.code, **extra)
    assert response.status_code == 400
    assert fragment in response.json()[0]["description"]
    assert not Case.objects.exists()


def test_unknown_attribute_code_is_refused_by_the_service_too(personas, termite):
    with pytest.raises(UserError) as error:
        report(personas, termite, answers={"colour": "red"})
    assert error.value.field == "colour" and "attribute[colour]" in error.value.zh


def test_post_by_coordinates_lands_in_the_street_of_the_nearest_venue(client, personas, termite, street_key):
    Venue.objects.create(
        org=personas.tree.community_a,
        kind=VenueKind.SERVICE_CENTRE,
        name="康乐会客厅",
        address="康健路 1 号",
        latitude=Decimal("31.160000"),
        longitude=Decimal("121.420000"),
    )
    response = _post(client, street_key, lat="31.1601", long="121.4202", description="绿化带白蚁")
    assert response.status_code == 201
    case = Case.objects.get()
    assert case.org == personas.tree.street
    clocks = CaseMilestone.objects.filter(case=case)
    assert clocks.count() == 2 and all(row.due_at is not None for row in clocks)  # the SLA started


def test_post_by_coordinates_with_a_district_key_and_no_known_place_is_refused(client, personas, termite):
    from kangle.core.roles import Role
    from personas import make_user

    district_admin = make_user("district_admin", Role.STREET_ADMIN, personas.tree.district)
    _row, token = token_issue(actor=personas.superuser, user=district_admin, name="district")
    response = _post(client, token, lat="31.1601", long="121.4202")
    assert response.status_code == 400 and "address_id" in response.json()[0]["description"]
    assert not Case.objects.exists()


# --- GET lists ---------------------------------------------------------------------------------------------
def test_status_list_and_the_default_window(client, personas, termite):
    moment = current_time()
    recent_open = report(personas, termite, address="A 1", now=moment - dt.timedelta(days=1))
    recent_closed = report(personas, termite, address="A 2", now=moment - dt.timedelta(days=2))
    services.case_cancel(actor=personas.secretary_a, case=recent_closed, reason="重复")
    old = report(personas, termite, address="A 3", now=moment - dt.timedelta(days=120))
    both = client.get("/open311/v2/requests.json", {"status": "open,closed"}).json()
    assert {row["service_request_id"] for row in both} == {recent_open.number, recent_closed.number}
    assert [r["service_request_id"] for r in client.get("/open311/v2/requests.json").json()] == [
        recent_open.number,
        recent_closed.number,
    ]
    start = (moment - dt.timedelta(days=125)).isoformat()
    older = client.get("/open311/v2/requests.json", {"start_date": start}).json()
    assert [row["service_request_id"] for row in older] == [old.number]  # 90 days from the start


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-06-01T00:00:00+08:00"}, "90"),
        ({"start_date": "2026-06-01T00:00:00+08:00", "end_date": "2026-05-01T00:00:00+08:00"}, "before"),
        ({"status": "open,pending"}, "status"),
    ],
)
def test_bad_windows_and_statuses_are_refused(client, termite, params, fragment):
    response = client.get("/open311/v2/requests.json", params)
    assert response.status_code == 400 and fragment in response.json()[0]["description"]


# --- an outside client library ------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_georeport_client_reads_services_definitions_and_requests(live_server, personas, questions):
    georeport = pytest.importorskip("georeport")
    case = report(personas, questions, answers={"where": "door"}, now=current_time())
    client = georeport.GeoReport(f"{live_server.url}/open311/v2")
    codes = [service["service_code"] for service in client.get_service_list()]
    assert "termite" in codes
    definition = client.get_service_definition("termite")
    assert [attribute["code"] for attribute in definition["attributes"]] == ["where", "swarms", "rooms"]
    listed = client.get_service_requests(status="open,closed")
    assert [row["service_request_id"] for row in listed] == [case.number]
    one = client.get_service_request(case.number)
    assert one["service_request_id"] == case.number and one["status"] == "open"
    xml_client = georeport.GeoReport(f"{live_server.url}/open311/v2", output_format="xml")
    assert "termite" in json.dumps(xml_client.get_service_list(), ensure_ascii=False)
