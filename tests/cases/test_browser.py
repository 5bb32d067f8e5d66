"""The whole 民情快办 flow in a real Chromium: a resident reports on the phone, the desk dispatches on the
workbench, the contractor books, checks in and completes on the phone, the resident rates."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from cases.helpers import png_bytes
from conftest import PHONE, browser_login
from kangle.cases.models import Case, CaseEvent, CasePhoto, CaseStatus, EventKind
from personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_resident_desk_contractor_resident(
    phone_page, desk_page, chromium, live_server, personas, contractor_org, tmp_path
):
    picture = tmp_path / "termites.png"
    picture.write_bytes(png_bytes((150, 90, 30), (64, 48)))

    # 1. The resident reports on the phone, with a photo.
    browser_login(phone_page, "resident", PASSWORD)
    phone_page.goto("/cases/report/")
    phone_page.select_option("#r-category", "termite")
    phone_page.select_option("#r-org", personas.tree.estate_a.code)
    phone_page.fill("#r-address", "康健路 300 弄 5 号 201 室")
    phone_page.fill("#r-title", "卧室门框出现白蚁")
    phone_page.fill("#r-phone", "13812345678")
    phone_page.set_input_files("#r-photos", str(picture))
    phone_page.click("#r-submit")
    phone_page.wait_for_url("**/cases/mine/MQ*/")
    case = Case.objects.get()
    assert phone_page.get_attribute("[data-testid=status]", "data-status") == "reported"

    # 2. The desk accepts and dispatches on the workbench.
    browser_login(desk_page, "secretary_a", PASSWORD)
    desk_page.goto("/cases/desk/")
    desk_page.click(f"tr[data-number='{case.number}'] a")
    desk_page.click("#act-accept")
    desk_page.wait_for_selector("[data-status=accepted]")
    desk_page.click("#act-dispatch")
    desk_page.wait_for_selector("[data-status=dispatched]")
    assert contractor_org.name in desk_page.inner_text("main")

    # 3. The contractor, on another phone, accepts, books, checks in, records a step and finishes.
    context = chromium.new_context(base_url=live_server.url, locale="zh-CN", **PHONE)
    worker = context.new_page()
    worker.set_default_timeout(15000)
    try:
        browser_login(worker, "contractor", PASSWORD)
        worker.goto("/cases/c/")
        worker.click(f"[data-number='{case.number}']")
        worker.click("#c-accept")
        worker.wait_for_selector("[data-status=assigned]")
        start = dt.datetime.now(ZoneInfo("Asia/Shanghai")) + dt.timedelta(hours=2)
        worker.fill("#c-slot-start", start.strftime("%Y-%m-%dT%H:%M"))
        worker.fill("#c-slot-end", (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
        worker.click("#c-book")
        worker.wait_for_selector("[data-status=booked]")
        worker.set_input_files("#c-checkin-photo", str(picture))
        worker.fill("#c-early-reason", "居民在家，同意提前上门")
        worker.click("#c-check-in")
        worker.wait_for_selector("[data-status=on_site]")
        worker.select_option("#c-step", "nest_located")
        worker.fill("#c-step-note", "门框内定位蚁巢")
        worker.set_input_files("#c-step-photos", str(picture))
        worker.click("#c-step-save")
        worker.wait_for_selector("li[data-kind=step]")
        worker.fill("#c-finish-note", "灭杀完成，已清理")
        worker.click("#c-finish")
        worker.wait_for_selector("[data-status=work_done]")
        worker.screenshot(path=str(tmp_path / "contractor.png"), full_page=True)
    finally:
        context.close()

    # 4. The resident sees the timeline and rates the result.
    phone_page.reload()
    assert "门框内定位蚁巢" in phone_page.inner_text("[data-testid=timeline]")
    phone_page.select_option("#f-satisfied", "yes")
    phone_page.select_option("#f-rating", "5")
    phone_page.click("#f-submit")
    phone_page.wait_for_selector("[data-status=closed]")

    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert CasePhoto.objects.filter(case=case).count() == 3
    kinds = set(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert {
        EventKind.DISPATCHED,
        EventKind.BOOKED,
        EventKind.CHECKED_IN,
        EventKind.WORK_DONE,
        EventKind.CLOSED,
    } <= kinds
    # The desk's queue shows the closed case's clocks as met.
    desk_page.goto(f"/cases/desk/{case.number}/")
    assert desk_page.locator("[data-colour=done]").count() == 2
