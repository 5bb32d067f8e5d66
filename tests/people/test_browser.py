"""The issue's flows in a real browser: the street admin creates a secretary who logs in with the one-time
code, chooses a password and approves a registration; the admin edits the 白蚁 policy and a new case gets the
new clock while an old one keeps its own."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import browser_login
from kangle.cases.defaults import seed
from kangle.cases.models import CaseCategory, CaseMilestone, Channel, Milestone, SlaPolicy
from kangle.cases.services import case_report
from kangle.core.roles import Role
from kangle.members.constants import Channel as MemberChannel
from kangle.members.constants import Status
from kangle.members.models import Member
from kangle.members.services import member_register
from personas import PASSWORD, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
H = dt.timedelta(hours=1)


def test_admin_creates_a_secretary_who_logs_in_and_approves_a_registration(desk_page, personas):
    pending = member_register(
        actor=personas.street_admin,
        data={
            "name": "新党员",
            "phone": "13812340000",
            "political_status": "full",
            "community": personas.tree.community_a,
        },
        channel=MemberChannel.DESK,
    ).member
    page = desk_page
    browser_login(page, "street_admin", PASSWORD)
    page.goto("/people/new/")
    page.fill("#id_display_name", "刘书记")
    page.fill("#id_username", "liu_sec")
    page.select_option("#id_role", "community_secretary")
    page.fill("#id_org", "KJ-C01")
    page.click("#account-create")
    code = page.locator('[data-testid="one-time-code"]').inner_text().strip()
    assert len(code) == 10
    page.context.clear_cookies()

    browser_login(page, "liu_sec", code)
    page.wait_for_url("**/accounts/password/")
    page.fill("#id_new_password", "liu's own passphrase 42")
    page.fill("#id_repeat_password", "liu's own passphrase 42")
    page.click("#password-submit")
    page.wait_for_url(lambda url: "/accounts/password/" not in url)
    page.goto(f"/members/{pending.pk}/")
    page.click("#approve")
    page.wait_for_load_state()
    assert Member.objects.get(pk=pending.pk).status == Status.APPROVED


def test_admin_edits_the_termite_policy_new_cases_get_the_new_clock(desk_page, personas):
    seed(SlaPolicy, Milestone, CaseCategory)
    termite = CaseCategory.objects.get(code="termite")

    def report(address):
        return case_report(
            actor=personas.secretary_a,
            category=CaseCategory.objects.get(pk=termite.pk),
            org=personas.tree.estate_a,
            channel=Channel.WALK_IN,
            title="飞蚁",
            resident_name="王阿姨",
            phone="13812345678",
            address=address,
        )

    def on_site_hours(case):
        row = CaseMilestone.objects.select_related("milestone").get(case=case, milestone__code="on_site")
        return round((row.due_at - row.started_at) / H)

    old = report("康健路 1 号")
    page = desk_page
    # The 白蚁 policy is shared by both streets of the tree: the admin whose role sits above them edits it.
    make_user("xh_admin", Role.STREET_ADMIN, personas.tree.district)
    browser_login(page, "xh_admin", PASSWORD)
    page.goto("/cases/reference/categories/")
    page.click("text=白蚁防治 24/48 小时 >> nth=0")
    page.wait_for_url("**/cases/reference/policies/termite/")
    page.fill(
        "#id_milestones", "on_site | 12小时内上门 | 12 | on_site\ncompleted | 36小时内完成 | 36 | work_done"
    )
    page.click("#policy-save")
    page.wait_for_url("**/cases/reference/categories/")
    assert SlaPolicy.objects.get(code="termite", is_current=True).version == 2
    new = report("康健路 2 号")
    assert on_site_hours(new) == 12
    assert on_site_hours(old) == 24
