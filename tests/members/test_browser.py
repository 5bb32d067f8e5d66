import pytest

from conftest import browser_login
from kangle.members.models import Member
from personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_from_a_point_then_the_secretary_approves(phone_page, desk_page, personas, tmp_path):
    # The member scans the point's QR code on a phone.
    phone_page.goto("/r/P-A/")
    phone_page.get_by_test_id("register-here").click()
    phone_page.wait_for_url("**/members/register/?point=P-A")
    assert "康乐报到点" in phone_page.get_by_test_id("point").inner_text()
    assert phone_page.get_by_test_id("consent-text").is_visible()
    phone_page.fill("#id_name", "赵六")
    phone_page.fill(
        "#id_phone", "１３８ １２３４ ５６７８"
    )  # full-width digits and spaces, as a phone keyboard may type
    phone_page.select_option("#id_political_status", "full")
    phone_page.fill("#id_password", "a-long-password")
    phone_page.check("#id_consent")
    phone_page.click("#register-submit")
    phone_page.wait_for_url("**/members/m/home/")
    assert phone_page.get_by_test_id("home-status").get_attribute("data-status") == "pending"
    phone_page.goto("/members/me/")
    assert "138****5678" in phone_page.content()
    phone_page.screenshot(path=tmp_path / "pending.png", full_page=True)

    # The secretary approves on the workbench.
    member = Member.objects.get()
    browser_login(desk_page, "secretary_a", PASSWORD)
    desk_page.goto("/members/")
    desk_page.click(f"tr[data-member='{member.pk}'] a")
    desk_page.click("#approve")
    desk_page.wait_for_selector("[data-testid=member-status][data-status=approved]")

    # The member sees "approved".
    phone_page.reload()
    status = phone_page.get_by_test_id("member-status")
    assert status.get_attribute("data-status") == "approved"
    assert status.inner_text() == "已通过"
    phone_page.screenshot(path=tmp_path / "approved.png", full_page=True)
