import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from kangle.cases.models import Case, CaseStatus, Channel
from kangle.prevention import services
from kangle.prevention.models import PlaceType, Reading, Warning
from prevention.conftest import T0, png_upload

pytestmark = pytest.mark.django_db

API = "/api/v1/prevention"


@pytest.fixture
def world(personas, point, campaign):
    """Objects in community A: a point, a community-level round, a warning, the campaign."""
    inspection_round = services.round_open(actor=personas.secretary_a, org=personas.tree.community_a, now=T0)
    warning = services.warning_record(
        actor=personas.secretary_a,
        org=personas.tree.estate_a,
        place_type=PlaceType.OLD_HOUSE,
        occurred_at=T0,
        now=T0,
    )
    return {"point": point, "round": inspection_round, "warning": warning, "campaign": campaign}


def object_requests(world):
    r, w, c, p = world["round"].pk, world["warning"].pk, world["campaign"].pk, world["point"].code
    return [
        ("get", f"/points/{p}", None),
        ("post", f"/points/{p}/retire", None),
        ("post", f"/rounds/{r}/close", None),
        ("get", f"/rounds/{r}/readings", None),
        (
            "multipart",
            f"/rounds/{r}/readings",
            {"point_code": p, "activity_found": "true", "bait_consumed_pct": "5"},
        ),
        ("get", f"/warnings/{w}", None),
        ("post", f"/warnings/{w}/open-case", None),
        ("get", "/analysis", {"org": "KJ-C01", "start": "2026-06-01", "end": "2026-06-30"}),
        ("get", "/analysis.xlsx", {"org": "KJ-C01", "start": "2026-06-01", "end": "2026-06-30"}),
        ("get", "/warnings", {"org": "KJ-C01"}),
        ("get", "/points", {"under": "KJ-C01"}),
        (
            "post",
            "/points",
            {
                "code": "N1",
                "name": "n",
                "org_code": "KJ-C01-E1",
                "latitude": "31",
                "longitude": "121",
                "place_type": "other",
                "device_type": "d",
                "bait_type": "b",
                "installed_on": "2026-01-01",
            },
        ),
        ("post", "/rounds", {"org_code": "KJ-C01"}),
        ("post", "/warnings", {"org_code": "KJ-C01-E1", "place_type": "shop"}),
        ("get", f"/campaigns/{c}", None),
        ("get", f"/campaigns/{c}/units", None),
        ("post", f"/campaigns/{c}/inspect", {"unit_code": "KJ-C01-E1"}),
        (
            "multipart",
            f"/campaigns/{c}/findings",
            {"unit_code": "KJ-C01-E1", "description": "x", "place_type": "shop"},
        ),
        ("post", f"/campaigns/{c}/close", None),
        (
            "post",
            "/campaigns",
            {
                "name": "x",
                "org_code": "KJ-C01",
                "starts_on": "2026-06-01",
                "ends_on": "2026-06-02",
                "all_estates_and_lanes": True,
            },
        ),
    ]


def call(client, api, method, path, data):
    if method == "get":
        return api.get(path, **(data or {}))
    if method == "multipart":
        return client.post("/api/v1" + path, data)
    return api.post(path, data)


def test_outsider_gets_404_for_every_object_and_endpoint(client, api, personas, world):
    client.force_login(personas.secretary_b)
    for method, path, data in object_requests(world):
        response = call(client, api, method, API.removeprefix("/api/v1") + path, data)
        assert response.status_code == 404, (method, path, response.content)
        assert response.json()["code"] == "not_found"
    assert Reading.objects.count() == 0 and Warning.objects.count() == 1 and Case.objects.count() == 0


def test_anonymous_gets_401_everywhere(client, api, world):
    for method, path, data in object_requests(world):
        response = call(client, api, method, API.removeprefix("/api/v1") + path, data)
        assert response.status_code == 401, (method, path)


def test_outsiders_lists_leave_out_community_a(client, api, personas, world):
    services.point_create(
        actor=personas.secretary_b,
        code="MPB",
        name="b",
        org=personas.tree.estate_b,
        latitude=31,
        longitude=121,
        place_type="other",
        device_type="d",
        bait_type="b",
        installed_on=dt.date(2026, 1, 1),
        now=T0,
    )
    client.force_login(personas.secretary_b)
    assert [row["code"] for row in api.get("/prevention/points").json()["items"]] == ["MPB"]
    assert api.get("/prevention/warnings").json()["items"] == []
    assert api.get("/prevention/rounds").json()["items"] == []
    assert api.get("/prevention/campaigns").json()["items"] == []


def test_wrong_role_is_refused(client, api, personas, world):
    client.force_login(personas.member)
    for path in ("/prevention/points", "/prevention/warnings", "/prevention/rounds", "/prevention/campaigns"):
        response = api.get(path)
        assert response.status_code == 403 and response.json()["code"] == "forbidden"
    response = api.get("/prevention/analysis", start="2026-06-01", end="2026-06-30")
    assert response.status_code == 403
    client.force_login(personas.grid_leader)  # staff in scope, but not the desk
    response = api.post(f"/prevention/points/{world['point'].code}/retire")
    assert response.status_code == 404  # the point's estate lies above the grid leader's grid
    response = api.post(f"/prevention/warnings/{world['warning'].pk}/open-case")
    assert response.status_code == 404


def test_points_api_flow(client, api, personas):
    client.force_login(personas.street_admin)
    response = api.post(
        "/prevention/points",
        {
            "code": "MP9",
            "name": "香樟树根诱饵站",
            "org_code": "KJ-C01-E1",
            "latitude": "31.16",
            "longitude": "121.42",
            "place_type": "green_belt",
            "device_type": "地下诱饵站",
            "bait_type": "饵剂",
            "installed_on": "2026-03-01",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["org_name"] == "康乐1小区"
    bad = api.post(
        "/prevention/points",
        {
            "code": "MP8",
            "name": "x",
            "org_code": "KJ-C01-E1",
            "place_type": "x",
            "device_type": "d",
            "bait_type": "b",
            "installed_on": "2026-03-01",
            "latitude": "31",
            "longitude": "121",
        },
    )
    assert bad.status_code == 400 and bad.json()["field"] == "place_type"
    assert api.get("/prevention/points", status="active").json()["count"] == 1
    retired = api.post("/prevention/points/MP9/retire")
    assert retired.status_code == 200 and retired.json()["status"] == "retired"


def test_round_and_reading_api_with_photo_and_one_step_case(client, api, personas, point, termite):
    client.force_login(personas.area_admin)
    created = api.post("/prevention/rounds", {"org_code": "KJ-A1", "name": "六月第二周"})
    assert created.status_code == 201
    round_id = created.json()["id"]
    response = client.post(
        f"{API}/rounds/{round_id}/readings",
        {
            "point_code": point.code,
            "activity_found": "true",
            "bait_consumed_pct": "70",
            "open_case": "true",
            "photo": png_upload(),
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["has_photo"] and body["warning_id"] and body["case_number"].startswith("MQ")
    assert Case.objects.get(number=body["case_number"]).channel == Channel.PREVENTION
    again = client.post(
        f"{API}/rounds/{round_id}/readings",
        {"point_code": point.code, "activity_found": "false", "bait_consumed_pct": "0"},
    )
    assert again.status_code == 409 and again.json()["code"] == "duplicate_reading"
    assert "每轮每个监测点只能录入一次" in again.json()["message"]
    not_image = client.post(
        f"{API}/rounds/{round_id}/readings",
        {
            "point_code": point.code,
            "activity_found": "false",
            "bait_consumed_pct": "0",
            "photo": png_upload().__class__("x.png", b"not an image", content_type="image/png"),
        },
    )
    assert not_image.status_code == 400 and not_image.json()["code"] == "not_an_image"
    listing = api.get("/prevention/rounds").json()["items"]
    assert listing[0]["reading_count"] == 1 and listing[0]["positive_count"] == 1
    assert api.get(f"/prevention/rounds/{round_id}/readings").json()["count"] == 1
    assert api.post(f"/prevention/rounds/{round_id}/close").json()["closed_at"]


def test_reading_for_retired_point_via_api(client, api, personas, point):
    client.force_login(personas.street_admin)
    round_id = api.post("/prevention/rounds", {"org_code": "KJ"}).json()["id"]
    api.post(f"/prevention/points/{point.code}/retire")
    response = client.post(
        f"{API}/rounds/{round_id}/readings",
        {"point_code": point.code, "activity_found": "true", "bait_consumed_pct": "5"},
    )
    assert response.status_code == 400 and response.json()["code"] == "point_retired"
    assert response.json()["message_en"].startswith("Point MP1 is retired")


def test_warnings_api(client, api, personas, termite):
    client.force_login(personas.secretary_a)
    created = api.post(
        "/prevention/warnings", {"org_code": "KJ-C01-E1", "place_type": "shop", "description": "商铺后墙"}
    )
    assert created.status_code == 201 and created.json()["community_name"] == "康乐居民区"
    warning_id = created.json()["id"]
    opened = api.post(f"/prevention/warnings/{warning_id}/open-case")
    assert opened.status_code == 201 and opened.json()["status"] == CaseStatus.REPORTED
    assert api.post(f"/prevention/warnings/{warning_id}/open-case").status_code == 409
    from kangle.cases.services import case_report

    case = case_report(
        actor=personas.secretary_a,
        category=termite,
        org=personas.tree.estate_a,
        channel=Channel.WALK_IN,
        title="白蚁",
        phone="13812345678",
        address="康健路 1 号",
    )
    from_case = api.post(
        "/prevention/warnings/from-case", {"case_number": case.number, "place_type": "old_house"}
    )
    assert from_case.status_code == 201 and from_case.json()["case_number"] == case.number
    rows = api.get("/prevention/warnings", org="KJ-C01").json()
    assert rows["count"] == 2
    bad = api.get("/prevention/warnings", start="2026-06-30", end="2026-06-01")
    assert bad.status_code == 400 and bad.json()["code"] == "end_before_start"


def test_analysis_api_and_bad_periods(client, api, personas):
    services.warning_record(
        actor=personas.secretary_a,
        org=personas.tree.estate_a,
        place_type="green_belt",
        occurred_at=T0,
        now=T0,
    )
    client.force_login(personas.area_admin)
    body = api.get("/prevention/analysis", org="KJ-A1", start="2026-06-01", end="2026-06-30").json()
    assert body["count"] == 1 and body["previous"]["pct"] is None
    assert "环比无可比数据" in body["brief"] and body["by_place_type"][0]["place_type"] == "green_belt"
    default_org = api.get("/prevention/analysis", start="2026-06-01", end="2026-06-30").json()
    assert default_org["org"] == "KJ-A1"
    bad = api.get("/prevention/analysis", start="2026-06-30", end="2026-06-01")
    assert bad.status_code == 400 and bad.json()["field"] == "end"
    assert "结束日期" in bad.json()["message"]
    missing = api.get("/prevention/analysis", start="2026-06-30")
    assert missing.status_code == 422
    export = api.get("/prevention/analysis.xlsx", org="KJ-A1", start="2026-06-01", end="2026-06-30")
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(export.content))
    assert book["概况"]["B3"].value == 1


def test_campaign_api_flow(client, api, personas, contractor_org, technician, termite):
    client.force_login(personas.area_admin)
    created = api.post(
        "/prevention/campaigns",
        {
            "name": "第一片区地毯式巡查",
            "org_code": "KJ-A1",
            "starts_on": "2026-06-01",
            "ends_on": "2026-06-30",
            "all_estates_and_lanes": True,
            "contractor_id": contractor_org.pk,
            "team": [
                {"role": "area_office", "name": "第一片区工作站"},
                {"role": "contractor", "name": "康健白蚁防治所"},
            ],
        },
    )
    assert created.status_code == 201, created.content
    campaign = created.json()
    assert campaign["summary"]["total"] == 1 and campaign["team"][0]["name"] == "第一片区工作站"
    bad = api.post(
        "/prevention/campaigns",
        {
            "name": "x",
            "org_code": "KJ-A1",
            "starts_on": "2026-06-30",
            "ends_on": "2026-06-01",
            "all_estates_and_lanes": True,
        },
    )
    assert bad.status_code == 400 and bad.json()["code"] == "end_before_start"
    cid = campaign["id"]
    client.force_login(technician)
    finding = client.post(
        f"{API}/campaigns/{cid}/findings",
        {
            "unit_code": "KJ-C01-E1",
            "description": "弄堂老宅门框发现蚁巢",
            "place_type": "old_house",
            "nest_found": "true",
            "treated_on_spot": "true",
            "photos": [png_upload()],
        },
    )
    assert finding.status_code == 201, finding.content
    assert Case.objects.get(number=finding.json()["case_number"]).status == CaseStatus.CLOSED
    client.force_login(personas.area_admin)
    units = api.get(f"/prevention/campaigns/{cid}/units").json()["items"]
    assert units[0]["inspected_at"] and units[0]["nest_count"] == 1
    summary = api.get(f"/prevention/campaigns/{cid}").json()["summary"]
    assert (summary["pct"], summary["nests"], summary["treated"]) == (100, 1, 1)
    listing = api.get("/prevention/campaigns").json()["items"]
    assert listing[0]["unit_done"] == 1 and listing[0]["unit_total"] == 1
    outside = api.post(f"/prevention/campaigns/{cid}/inspect", {"unit_code": "KJ-C01"})
    assert outside.status_code == 400 and outside.json()["code"] == "unit_not_in_campaign"
    assert api.post(f"/prevention/campaigns/{cid}/close").json()["status"] == "closed"


def test_every_list_is_paged_with_a_limit_and_warnings_by_a_cursor(client, api, personas, world):
    for n in range(2):
        services.warning_record(
            actor=personas.secretary_a,
            org=personas.tree.estate_a,
            place_type=PlaceType.GREEN_BELT,
            occurred_at=T0 + dt.timedelta(hours=n + 1),
            now=T0 + dt.timedelta(hours=3),
        )
    client.force_login(personas.area_admin)
    r, c = world["round"].pk, world["campaign"].pk
    lists = [
        "/points",
        "/rounds",
        f"/rounds/{r}/readings",
        "/warnings",
        "/campaigns",
        f"/campaigns/{c}/units",
    ]
    lists.append(f"/campaigns/{c}/sprayings")
    for path in lists:
        with CaptureQueriesContext(connection) as queries:
            body = api.get(f"/prevention{path}", limit=1).json()
        assert len(body["items"]) <= 1 and "count" in body, path
        assert any(" LIMIT " in query["sql"] for query in queries.captured_queries), path
    first = api.get("/prevention/warnings", limit=2).json()
    assert first["count"] == 3 and len(first["items"]) == 2 and first["next"]
    rest = api.get("/prevention/warnings", limit=2, after=first["next"]).json()
    assert [row["id"] for row in rest["items"]] == [world["warning"].pk] and rest["next"] is None
