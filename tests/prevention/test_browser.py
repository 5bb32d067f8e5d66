"""Real Chromium: a community secretary inspecting with the phone records a positive reading and opens a case
in one step; the area desk sees it analysed with charts on the workbench."""

import datetime as dt

import pytest

from conftest import browser_login
from kangle.cases import defaults
from kangle.cases.models import CaseCategory, Milestone, SlaPolicy
from kangle.core.timeutil import today
from kangle.prevention import services
from kangle.prevention.models import Reading, Warning
from personas import PASSWORD
from prevention.conftest import make_point, png_upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(db):
    """Transactional tests empty the tables after each test; seed the categories again if needed."""
    defaults.seed(SlaPolicy, Milestone, CaseCategory)


def test_inspector_records_a_reading_on_the_phone_and_desk_sees_the_analysis(
    phone_page, desk_page, personas, seeded, tmp_path
):
    point = make_point(personas, code="MP7")
    inspection_round = services.round_open(actor=personas.street_admin, org=personas.tree.street)
    photo = tmp_path / "bait.png"
    photo.write_bytes(png_upload().read())

    browser_login(phone_page, "secretary_a", PASSWORD)
    phone_page.goto("/prevention/m/")
    phone_page.click(f"[data-testid=round-{inspection_round.pk}]")
    phone_page.check(f"#activity-{point.code}")
    phone_page.fill(f"#pct-{point.code}", "65")
    phone_page.set_input_files(f"#photo-{point.code}", str(photo))
    phone_page.check(f"#case-{point.code}")
    phone_page.click(f"[data-testid=save-{point.code}]")
    phone_page.wait_for_selector(".ph-message")
    assert "MP7" in phone_page.locator(".ph-message").inner_text()
    phone_page.screenshot(path=str(tmp_path / "phone-round.png"), full_page=True)
    reading = Reading.objects.get()
    assert reading.activity_found and reading.bait_consumed_pct == 65 and reading.photo
    warning = Warning.objects.get()
    assert warning.case is not None and warning.case.channel == "prevention"

    browser_login(desk_page, "area_admin", PASSWORD)
    start = (today() - dt.timedelta(days=6)).isoformat()
    desk_page.goto(f"/prevention/?org=KJ-A1&start={start}&end={today().isoformat()}")
    desk_page.wait_for_selector("#chart-trend[data-ready='1']")
    desk_page.wait_for_selector("#chart-map[data-ready='1']")
    assert desk_page.locator("#stat-count").inner_text() == "1"
    assert "共收到白蚁预警1例" in desk_page.locator("#analysis-brief").inner_text()
    assert desk_page.locator("#chart-trend canvas").count() == 1
    desk_page.fill("#id_start", today().isoformat())
    desk_page.fill("#id_end", start)
    desk_page.click("#analysis-submit")
    assert "结束日期" in desk_page.locator("body").inner_text()


def test_contractor_records_a_nest_treated_on_the_spot_on_the_phone(phone_page, personas, seeded, tmp_path):
    from kangle.cases.models import CaseCategory, Contractor
    from kangle.core.roles import Role
    from kangle.prevention.models import Finding, TeamRole
    from personas import make_user

    technician = make_user("kj_technician", Role.CONTRACTOR, personas.tree.street)
    contractor = Contractor.objects.create(name="康健白蚁防治所", org=personas.tree.street)
    contractor.categories.add(CaseCategory.objects.get(code="termite"))
    contractor.users.add(technician)
    campaign = services.campaign_create(
        actor=personas.area_admin,
        name="康乐地毯式巡查",
        org=personas.tree.community_a,
        starts_on=today(),
        ends_on=today(),
        units=[personas.tree.estate_a],
        team=[(TeamRole.CONTRACTOR, "康健白蚁防治所")],
        contractor=contractor,
    )
    photo = tmp_path / "nest.png"
    photo.write_bytes(png_upload().read())

    browser_login(phone_page, "kj_technician", PASSWORD)
    phone_page.goto("/prevention/m/")
    phone_page.click(f"[data-testid=campaign-{campaign.pk}]")
    phone_page.select_option("#id_unit", "KJ-C01-E1")
    phone_page.fill("#id_description", "老宅门框内发现白蚁巢")
    phone_page.select_option("#id_place_type", "old_house")
    phone_page.check("#id_nest_found")
    phone_page.check("#id_treated_on_spot")
    phone_page.set_input_files("#id_photos", str(photo))
    phone_page.click("#finding-submit")
    phone_page.wait_for_selector("#campaign-complete")
    assert "MQ" in phone_page.locator(".ph-message").inner_text()
    assert "完成100%" in phone_page.locator("#campaign-summary").inner_text()
    finding = Finding.objects.select_related("case").get()
    assert finding.case.status == "closed" and finding.recorded_by == technician
