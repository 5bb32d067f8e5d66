import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from kangle.cases.models import Case
from kangle.orgs.models import EstateType, OrgKind
from kangle.prevention import services
from kangle.prevention.models import CampaignUnit, Finding, MonitoringPoint, PlaceType, Reading, Warning
from personas import make_unit
from prevention.conftest import T0, make_point, png_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas, point, campaign):
    inspection_round = services.round_open(actor=personas.secretary_a, org=personas.tree.community_a, now=T0)
    warning = services.warning_record(
        actor=personas.secretary_a,
        org=personas.tree.estate_a,
        place_type=PlaceType.OLD_HOUSE,
        occurred_at=T0,
        description="康乐1小区老宅门框有蚁路",
        now=T0,
    )
    return {"point": point, "round": inspection_round, "warning": warning, "campaign": campaign}


def pages(world):
    r, c = world["round"].pk, world["campaign"].pk
    return {
        "list": [
            "/prevention/",
            "/prevention/points/",
            "/prevention/rounds/",
            "/prevention/warnings/",
            "/prevention/campaigns/",
        ],
        "detail": [
            f"/prevention/rounds/{r}/",
            f"/prevention/campaigns/{c}/",
            f"/prevention/m/rounds/{r}/",
            f"/prevention/m/campaigns/{c}/",
            "/prevention/?org=KJ-C01",
            "/prevention/export.xlsx?org=KJ-C01&start=2026-06-01&end=2026-06-30",
        ],
        "post": [
            f"/prevention/points/{world['point'].code}/retire/",
            f"/prevention/rounds/{r}/close/",
            f"/prevention/warnings/{world['warning'].pk}/open-case/",
        ],
    }


def test_every_page_for_staff_in_scope(client, personas, world):
    client.force_login(personas.area_admin)
    for url in pages(world)["list"] + pages(world)["detail"]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert "康乐地毯式巡查" in client.get("/prevention/campaigns/").content.decode()


def test_anonymous_is_sent_to_login(client, world):
    for url in pages(world)["list"] + pages(world)["detail"] + pages(world)["post"]:
        response = client.get(url) if url not in pages(world)["post"] else client.post(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_outsider_gets_404_on_every_object_page(client, personas, world):
    client.force_login(personas.secretary_b)
    for url in pages(world)["detail"]:
        assert client.get(url).status_code == 404, url
    for url in pages(world)["post"]:
        assert client.post(url).status_code == 404, url
    body = client.get("/prevention/warnings/").content.decode()
    assert world["warning"].description not in body and "open-case-" not in body
    assert "康乐地毯式巡查" not in client.get("/prevention/campaigns/").content.decode()
    assert world["point"].code not in client.get("/prevention/points/").content.decode()
    assert not Case.objects.exists()


def test_wrong_role_gets_403(client, personas, world):
    client.force_login(personas.member)
    for url in pages(world)["list"] + ["/prevention/m/"]:
        assert client.get(url).status_code == 403, url


def test_dashboard_shows_brief_numbers_and_chart_data(client, personas, world):
    client.force_login(personas.area_admin)
    body = client.get("/prevention/?org=KJ-A1&start=2026-06-01&end=2026-06-30").content.decode()
    assert "2026年6月1日至2026年6月30日，第一片区共收到白蚁预警1例，环比无可比数据" in body
    assert "白蚁预警分析" in body and "环比" in body  # the zh_Hans catalogue is in use
    assert 'id="chart-trend-data"' in body and "vendor/echarts/echarts.min.js" in body
    bad = client.get("/prevention/?org=KJ-A1&start=2026-06-30&end=2026-06-01")
    assert bad.status_code == 400 and "结束日期" in bad.content.decode()
    export = client.get("/prevention/export.xlsx?org=KJ-A1&start=2026-06-01&end=2026-06-30")
    assert load_workbook(io.BytesIO(export.content))["概况"]["B3"].value == 1
    bad_export = client.get("/prevention/export.xlsx?org=KJ-A1&start=2026-06-30&end=2026-06-01")
    assert bad_export.status_code == 400


def test_phone_reading_form_records_and_refuses_the_second(client, personas, world):
    client.force_login(personas.secretary_a)
    url = f"/prevention/m/rounds/{world['round'].pk}/"
    response = client.post(
        url,
        {
            "point": world["point"].code,
            "activity_found": "on",
            "bait_consumed_pct": "55",
            "photo": png_upload(),
        },
        follow=True,
    )
    assert response.status_code == 200 and Reading.objects.get().activity_found
    assert Warning.objects.count() == 2
    response = client.post(url, {"point": world["point"].code, "bait_consumed_pct": "0"}, follow=True)
    assert "每轮每个监测点只能录入一次" in response.content.decode()
    assert Reading.objects.count() == 1


def test_phone_campaign_form_marks_and_records(client, personas, world, technician):
    client.force_login(personas.secretary_a)
    url = f"/prevention/m/campaigns/{world['campaign'].pk}/"
    other = make_unit(
        personas.tree.community_a, OrgKind.ESTATE, "KJ-C01-E2", "康乐2小区", estate_type=EstateType.LANE
    )
    response = client.post(url, {"unit": other.code, "note": "x"}, follow=True)
    assert "不在本次巡查" in response.content.decode()
    response = client.post(
        url,
        {
            "unit": "KJ-C01-E1",
            "description": "发现蚁巢",
            "place_type": "old_house",
            "nest_found": "on",
            "treated_on_spot": "on",
            "technician": technician.username,
            "photos": [png_upload()],
        },
        follow=True,
    )
    assert Finding.objects.get().case.status == "closed"
    assert "康乐1小区" not in response.context["pending"].values_list("unit__name", flat=True)
    assert CampaignUnit.objects.get().inspected_at is not None


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url_of",
    [
        lambda w: "/prevention/points/",
        lambda w: "/prevention/rounds/",
        lambda w: "/prevention/warnings/",
        lambda w: "/prevention/campaigns/",
        lambda w: f"/prevention/campaigns/{w['campaign'].pk}/",
        lambda w: f"/prevention/rounds/{w['round'].pk}/",
        lambda w: f"/prevention/m/rounds/{w['round'].pk}/",
        lambda w: "/prevention/m/",
    ],
)
def test_list_pages_query_count_does_not_grow_with_rows(
    client, personas, world, contractor_org, url_of, django_assert_num_queries
):
    client.force_login(personas.area_admin)
    url = url_of(world)
    _count_queries(client, url)  # warm caches (sessions, content types)
    one = _count_queries(client, url)
    for n in (2, 3):
        make_point(personas, code=f"MP{n}")
        services.round_open(actor=personas.secretary_a, org=personas.tree.community_a, now=T0)
        services.warning_record(
            actor=personas.secretary_a, org=personas.tree.estate_a, place_type="shop", occurred_at=T0, now=T0
        )
        estate = make_unit(
            personas.tree.community_a,
            OrgKind.ESTATE,
            f"KJ-C01-E{n}",
            f"康乐{n}小区",
            estate_type=EstateType.ESTATE,
        )
        services.campaign_create(
            actor=personas.area_admin,
            name=f"巡查{n}",
            org=personas.tree.community_a,
            starts_on=dt.date(2026, 6, 1),
            ends_on=dt.date(2026, 6, 2),
            units=[estate],
            team=[],
            now=T0,
        )
        CampaignUnit.objects.create(campaign=world["campaign"], unit=estate)
        services.reading_record(
            actor=personas.secretary_a,
            inspection_round=world["round"],
            point=personas_point(n),
            activity_found=True,
            bait_consumed_pct=50,
            now=T0,
        )
    with django_assert_num_queries(one):
        assert client.get(url).status_code == 200


def personas_point(n):
    from kangle.prevention.models import MonitoringPoint

    return MonitoringPoint.objects.get(code=f"MP{n}")


def test_point_form_adds_and_reports_bad_input(client, personas):
    client.force_login(personas.secretary_a)
    data = {
        "code": "MP5",
        "name": "香樟树根诱饵站",
        "org": "KJ-C01-E1",
        "latitude": "31.16",
        "longitude": "121.42",
        "place_type": "green_belt",
        "device_type": "地下诱饵站",
        "bait_type": "饵剂",
        "installed_on": "2026-03-01",
    }
    client.post("/prevention/points/new/", data)
    assert MonitoringPoint.objects.get(code="MP5").org == personas.tree.estate_a
    response = client.post("/prevention/points/new/", {**data, "code": "MP6", "latitude": "abc"}, follow=True)
    assert "纬度应为" in response.content.decode() and not MonitoringPoint.objects.filter(code="MP6").exists()
    client.force_login(personas.secretary_b)
    assert client.post("/prevention/points/new/", {**data, "code": "MP7"}).status_code == 404
    client.force_login(personas.member)
    assert client.post("/prevention/points/new/", {**data, "code": "MP8"}).status_code == 403


def test_grid_leader_analysis_is_limited_to_the_grid(client, personas, world):
    services.warning_record(
        actor=personas.grid_leader, org=personas.tree.grid_a, place_type="shop", occurred_at=T0, now=T0
    )
    client.force_login(personas.grid_leader)
    response = client.get("/prevention/?start=2026-06-01&end=2026-06-30")
    assert response.status_code == 200
    assert response.context["org"] == personas.tree.grid_a and response.context["result"].count == 1
    assert client.get("/prevention/?org=KJ-C01&start=2026-06-01&end=2026-06-30").status_code == 404


def test_warning_form_records_patrol_and_case_warnings(client, personas, termite):
    from kangle.cases.models import Channel
    from kangle.cases.services import case_report

    client.force_login(personas.secretary_a)
    client.post(
        "/prevention/warnings/new/", {"org": "KJ-C01-E1", "place_type": "shop", "description": "商铺后墙"}
    )
    assert Warning.objects.get().source == "patrol"
    case = case_report(
        actor=personas.secretary_a,
        category=termite,
        org=personas.tree.estate_a,
        channel=Channel.WALK_IN,
        title="白蚁",
        phone="13812345678",
        address="康健路 1 号",
    )
    client.post("/prevention/warnings/new/", {"case_number": case.number, "place_type": "old_house"})
    assert Warning.objects.filter(case=case, source="resident_case").exists()
    response = client.post(
        "/prevention/warnings/new/", {"case_number": case.number, "place_type": "old_house"}, follow=True
    )
    assert "已登记为预警" in response.content.decode() and Warning.objects.count() == 2
    client.force_login(personas.secretary_b)
    assert (
        client.post("/prevention/warnings/new/", {"case_number": case.number, "place_type": "x"}).status_code
        == 404
    )
    assert (
        client.post("/prevention/warnings/new/", {"org": "KJ-C01-E1", "place_type": "shop"}).status_code
        == 404
    )
    assert Warning.objects.count() == 2


def test_closed_campaign_offers_no_form_on_the_phone(client, personas, world):
    services.campaign_close(actor=personas.area_admin, campaign=world["campaign"], now=T0)
    client.force_login(personas.secretary_a)
    body = client.get(f"/prevention/m/campaigns/{world['campaign'].pk}/").content.decode()
    assert 'id="campaign-closed"' in body and 'id="finding-form"' not in body
    response = client.post(
        f"/prevention/m/campaigns/{world['campaign'].pk}/", {"unit": "KJ-C01-E1"}, follow=True
    )
    assert "本次巡查已结束" in response.content.decode()
    assert CampaignUnit.objects.get(campaign=world["campaign"]).inspected_at is None


def test_a_campaign_created_on_its_page_can_record_a_treated_finding(
    client, personas, contractor_org, technician
):
    from kangle.prevention.models import Campaign

    client.force_login(personas.secretary_a)
    page = client.get("/prevention/campaigns/").content.decode()
    assert f'<option value="{contractor_org.pk}">{contractor_org.name}</option>' in page
    client.post(
        "/prevention/campaigns/new/",
        {
            "name": "春季普查",
            "org": personas.tree.community_a.code,
            "starts_on": T0.date().isoformat(),
            "ends_on": (T0 + dt.timedelta(days=30)).date().isoformat(),
            "contractor": str(contractor_org.pk),
        },
    )
    campaign = Campaign.objects.get()
    assert campaign.contractor == contractor_org
    client.post(
        f"/prevention/m/campaigns/{campaign.pk}/",
        {
            "unit": personas.tree.estate_a.code,
            "description": "发现蚁巢",
            "place_type": "old_house",
            "nest_found": "on",
            "treated_on_spot": "on",
            "technician": technician.username,
            "photos": [png_upload()],
        },
    )
    assert Finding.objects.get().case.status == "closed"


def test_campaign_page_has_a_chart_and_an_export(client, personas, campaign):
    client.force_login(personas.area_admin)
    page = client.get(f"/prevention/campaigns/{campaign.pk}/").content.decode()
    assert 'id="campaign-chart"' in page and 'id="campaign-export"' in page
    export = client.get(f"/prevention/campaigns/{campaign.pk}/export.xlsx")
    sheet = load_workbook(io.BytesIO(export.content))["排查进度"]
    assert sheet.cell(row=3, column=1).value == personas.tree.estate_a.name
    client.force_login(personas.secretary_b)
    assert client.get(f"/prevention/campaigns/{campaign.pk}/export.xlsx").status_code == 404
