"""The two flows of the issue in a real Chromium on a 390 px phone: a new member registers from a QR point
in large type and makes one mistake on the way; a resident signs up by texted code and reports termites
with a photo."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from cases.helpers import png_bytes
from kangle.accounts.models import User
from kangle.cases.defaults import seed
from kangle.cases.models import Case, CaseCategory, CasePhoto, Milestone, SlaPolicy
from kangle.core.roles import Role
from kangle.members.models import Member
from kangle.notify.models import OutboxMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("KANGLE_SCREENSHOT_DIR", "")


def _shot(page, tmp_path, name):
    page.screenshot(path=str(Path(SHOTS or tmp_path) / f"flow_{name}.png"), full_page=True)


def _body_px(page) -> float:
    return page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")


def test_new_member_registers_from_a_qr_point_in_large_type_with_one_mistake(phone_page, personas, tmp_path):
    page = phone_page
    assert page.viewport_size["width"] == 390
    page.goto("/r/P-A/")
    page.click("#large-type-switch")
    page.wait_for_selector("body.ph-large")
    assert _body_px(page) >= 20
    page.get_by_test_id("register-here").click()
    page.wait_for_url("**/members/register/?point=P-A")
    assert "ph-large" in page.get_attribute("body", "class")  # the device remembers it

    page.fill("#id_name", "赵六")
    page.fill("#id_phone", "138 1234 567")  # the mistake: one digit short
    page.select_option("#id_political_status", "full")
    page.fill("#id_address", "康健路 300 弄 1 号 101 室")
    page.fill("#id_place_query", "1号楼组")  # the micro-grid is found by typing the building
    microgrid = personas.tree.microgrid_a.code
    page.wait_for_selector(f"#mg-{microgrid}")
    page.click(f"label[for='mg-{microgrid}']")
    page.fill("#id_password", "a-long-password")
    page.click("label[for='id_consent']")
    page.click("#register-submit")
    page.wait_for_selector("#id_phone_error")
    _shot(page, tmp_path, "register_mistake_large")

    # The page moved to the field at fault; the message is there, in Chinese only; nothing typed is lost.
    assert page.evaluate("() => document.activeElement.id") == "id_phone"
    assert "手机号格式不正确" in page.inner_text("#id_phone_error")
    assert "Malformed" not in page.content()
    assert page.input_value("#id_name") == "赵六"
    assert page.input_value("#id_address") == "康健路 300 弄 1 号 101 室"
    assert page.input_value("#id_password") == "a-long-password"
    assert page.is_checked(f"#mg-{microgrid}") and page.is_checked("#id_consent")
    assert _body_px(page) >= 20
    assert not Member.objects.exists()

    page.fill(
        "#id_phone", "１３８ １２３４ ５６７８"
    )  # full-width digits and spaces, as phone keyboards type
    page.click("#register-submit")
    page.wait_for_url("**/members/m/home/")
    assert page.get_by_test_id("home-status").get_attribute("data-status") == "pending"
    assert page.get_by_test_id("next-steps").is_visible()
    _shot(page, tmp_path, "member_home_pending_large")
    member = Member.objects.get()
    assert member.microgrid == personas.tree.microgrid_a and member.user.phone == "13812345678"
    assert member.user.large_type is False  # the device cookie, not yet the person's own setting


def test_resident_signs_up_by_code_and_reports_termites_with_a_photo(phone_page, personas, tmp_path):
    seed(SlaPolicy, Milestone, CaseCategory)  # transactional tests flush the seeded categories
    page = phone_page
    page.goto("/accounts/login/")
    page.click("#code-login-link")
    page.wait_for_url("**/notify/code/**")
    page.fill("#id_phone", "139 7777 8888")
    page.click("#code-send")
    page.wait_for_selector("[data-testid=code-sent]")
    message = OutboxMessage.objects.filter(reference="login-code").get()
    assert message.to == "13977778888"
    code = re.search(r"\d{6}", message.body).group(0)
    page.fill("#id_code", code)
    page.click("#code-verify")
    page.wait_for_url("**/notify/signup/")
    assert "139****8888" in page.content()
    page.fill("#id_display_name", "王阿姨")
    page.select_option("#id_community", personas.tree.community_a.code)
    _shot(page, tmp_path, "resident_signup")
    page.click("#signup-submit")
    page.wait_for_url("**/cases/report/")

    picture = tmp_path / "termites.png"
    picture.write_bytes(png_bytes((150, 90, 30), (64, 48)))
    page.select_option("#r-category", "termite")
    page.select_option("#r-org", personas.tree.estate_a.code)
    page.fill("#r-address", "康健路 300 弄 5 号 201 室")
    page.fill("#r-title", "卧室门框出现白蚁")
    page.set_input_files("#r-photos", str(picture))
    _shot(page, tmp_path, "resident_report")
    page.click("#r-submit")
    page.wait_for_url("**/cases/mine/MQ*/")
    _shot(page, tmp_path, "resident_case")

    user = User.objects.get(display_name="王阿姨")
    assert user.roles == {Role.RESIDENT}
    case = Case.objects.get()
    assert case.reporter == user and case.category.code == "termite"
    assert CasePhoto.objects.filter(case=case).count() == 1
