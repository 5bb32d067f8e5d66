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


def test_a_transfer_to_another_streets_community_found_by_typing(phone_page, personas, tmp_path):
    """On a phone-wide workbench page: the secretary types part of a community's name, picks it from what
    the search found (swapped into the drop-down) and transfers the file."""
    from kangle.members import services
    from kangle.members.constants import Channel, Status
    from kangle.orgs.models import OrgKind
    from personas import make_unit

    target = make_unit(personas.tree.other_street, OrgKind.COMMUNITY, "HN-GL", "桂林苑居民区")
    member = services.member_register(
        actor=personas.street_admin,
        channel=Channel.DESK,
        data={"name": "王芳", "phone": "13800000001", "political_status": "full", "community": "KJ-C01"},
    ).member
    browser_login(phone_page, "secretary_a", PASSWORD)
    phone_page.goto(f"/members/{member.pk}/")
    assert phone_page.locator("#id_to_community option").count() == 2  # "---------" and 康乐居民区
    phone_page.fill("#id_community_query", "桂林")
    phone_page.wait_for_selector("#id_to_community option[value='HN-GL']", state="attached")
    assert (
        phone_page.locator("#id_to_community option[value='HN-GL']").inner_text()
        == "桂林苑居民区（湖南街道）"
    )
    phone_page.select_option("#id_to_community", "HN-GL")
    phone_page.locator("#actions").screenshot(path=tmp_path / "transfer.png")
    phone_page.click("#transfer")
    phone_page.wait_for_url("**/members/")
    member.refresh_from_db()
    assert member.community == target and member.status == Status.TRANSFERRED
