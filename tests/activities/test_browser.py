"""Phone flows in a real Chromium: check in by the venue's QR page; a member answers a whistle call; an
employer Party organisation reports collectively."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import browser_login
from kangle.activities import services
from kangle.activities.models import Attendance, WhistleResponse
from personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _now():
    return dt.datetime.now(dt.UTC)


def _call(kit, people=3):
    return services.call_create(
        actor=kit.p.secretary_a,
        org=kit.p.tree.community_a,
        title="暴雨后清理积水",
        place="康乐1小区",
        starts_at=_now() + dt.timedelta(hours=2),
        ends_at=_now() + dt.timedelta(hours=5),
        people_needed=people,
        deadline=_now() + dt.timedelta(hours=1),
    )


def test_member_checks_in_and_out_by_the_venue_qr_page(kit, phone_page, desk_page, tmp_path):
    activity = kit.activity(starts_at=_now() - dt.timedelta(minutes=5), minutes=120)
    browser_login(desk_page, "secretary_a", PASSWORD)
    desk_page.goto(f"/activities/{activity.pk}/screen/")
    qr = desk_page.get_by_test_id("qr")
    assert qr.locator("svg").count() == 1
    assert desk_page.locator("#qr[hx-trigger]").count() == 1
    scan_path = qr.get_attribute("data-scan-path")
    desk_page.screenshot(path=tmp_path / "screen.png")

    browser_login(phone_page, "member", PASSWORD)
    phone_page.goto(scan_path)
    phone_page.click("#scan-submit")
    result = phone_page.get_by_test_id("scan-result")
    assert result.get_attribute("data-action") == "in"
    assert "已签到" in result.inner_text()
    phone_page.screenshot(path=tmp_path / "checked-in.png", full_page=True)

    # Scanning the same code again says so and shows the first check-in; no second attendance.
    phone_page.goto(scan_path)
    phone_page.click("#scan-submit")
    assert "已签到，无需重复签到" in phone_page.get_by_test_id("scan-repeat").inner_text()
    assert Attendance.objects.filter(activity=activity).count() == 1

    # A forged code is refused.
    phone_page.goto(scan_path[:-4] + "beef")
    phone_page.click("#scan-submit")
    assert "二维码无效" in phone_page.get_by_test_id("scan-error").inner_text()

    desk_page.goto(f"/activities/{activity.pk}/screen/?action=out")
    out_path = desk_page.get_by_test_id("qr").get_attribute("data-scan-path")
    phone_page.goto(out_path)
    phone_page.click("#scan-submit")
    assert phone_page.get_by_test_id("scan-result").get_attribute("data-action") == "out"
    attendance = Attendance.objects.get(activity=activity)
    assert attendance.member == kit.member and attendance.check_in_method == "qr"
    assert attendance.checked_out_at is not None and attendance.credited is False  # left after a few minutes

    desk_page.goto(f"/activities/{activity.pk}/")
    assert desk_page.locator("#participant-count").inner_text() == "1"


def test_member_answers_a_whistle_call(kit, phone_page, tmp_path):
    call = _call(kit, people=2)
    browser_login(phone_page, "member", PASSWORD)
    phone_page.goto("/activities/m/calls/")
    phone_page.click(f"[data-call='{call.pk}']")
    assert phone_page.get_by_test_id("call-progress").inner_text() == "0 / 2"
    phone_page.click("#call-respond")
    phone_page.get_by_test_id("call-answered").wait_for()
    assert phone_page.get_by_test_id("call-progress").inner_text() == "1 / 2"
    phone_page.screenshot(path=tmp_path / "answered.png", full_page=True)
    assert WhistleResponse.objects.get(call=call).member == kit.member


def test_employer_party_org_reports_collectively(kit, phone_page, tmp_path):
    second, _ = kit.member_with_user("周杰", party_org=kit.party_org)
    call = _call(kit, people=5)
    browser_login(phone_page, "employer", PASSWORD)
    phone_page.goto("/activities/party/calls/")
    phone_page.click(f"[data-call='{call.pk}']")
    phone_page.fill("#names-input", "李明\n王不在\n周杰")
    phone_page.click("#collective-submit")
    errors = phone_page.get_by_test_id("collective-errors")
    assert "王不在" in errors.inner_text() and "不是本单位已报到的党员" in errors.inner_text()
    assert errors.locator("li[data-row='2']").count() == 1
    assert not WhistleResponse.objects.exists()  # none accepted
    phone_page.screenshot(path=tmp_path / "collective-errors.png", full_page=True)

    phone_page.fill("#names-input", "李明\n周杰")
    phone_page.click("#collective-submit")
    phone_page.get_by_test_id("collective-done").wait_for()
    assert phone_page.get_by_test_id("call-progress").inner_text() == "2 / 5"
    reported = set(WhistleResponse.objects.filter(call=call).values_list("member_id", flat=True))
    assert reported == {kit.member.pk, second.pk}
    phone_page.screenshot(path=tmp_path / "collective-done.png", full_page=True)
