"""Every phone page, for every phone role, in standard and large type, in a real Chromium at 390 px:

- axe-core (the npm package, installed by .ci/run into .ci/node) finds no serious or critical violation;
- computed font sizes: body text at least 16 px (20 px in large type), nothing visible under 14 px;
- tap targets (buttons, fields, tabs, list rows, link buttons) at least 44 x 44 px.

With KANGLE_SCREENSHOT_DIR set, each page is also saved as a PNG there, to be looked at.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest

from activities.conftest import Kit, _aspect, make_member  # noqa: F401 - builders shared with the activities tests
from cases.helpers import advance
from conftest import PHONE, browser_login
from kangle.cases import services as case_services
from kangle.cases.defaults import seed
from kangle.cases.models import CaseCategory, Channel, Contractor, Milestone, SlaPolicy
from kangle.core.roles import Role
from kangle.members.constants import Status
from personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(os.environ.get("KANGLE_AXE_JS") or ROOT / ".ci/node/node_modules/axe-core/axe.min.js")
SHOTS = os.environ.get("KANGLE_SCREENSHOT_DIR", "")

MEASURE = """(minText) => {
  const problems = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || seen.has(el) || el.closest('option, script, style, .ph-skip')) continue;
    seen.add(el);
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility === 'hidden' || box.width === 0 || box.height === 0) continue;
    const size = parseFloat(style.fontSize);
    if (size < minText) problems.push(`text ${size}px <${el.tagName.toLowerCase()} class="${el.className}">${text.slice(0, 20)}`);
  }
  const targets = document.querySelectorAll(
    'button, input:not([type=hidden]), select, textarea, .ph-tab, a.weui-cell, a.weui-btn, a.ph-button, a.btn');
  for (const el of targets) {
    let box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden' || el.closest('.ph-skip')) continue;
    if (el.matches('input[type=checkbox], input[type=radio]')) {
      const label = el.closest('label') || document.querySelector(`label[for="${el.id}"]`);
      if (label) box = label.getBoundingClientRect();
    }
    if (box.width === 0 && box.height === 0) continue;
    if (box.width < 44 || box.height < 44) {
      problems.push(`target ${Math.round(box.width)}x${Math.round(box.height)} <${el.tagName.toLowerCase()} id="${el.id}" class="${el.className}">`);
    }
  }
  return {body: parseFloat(getComputedStyle(document.body).fontSize), problems};
}"""

AXE_RUN = """async () => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(
    v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`);
}"""


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{AXE} is missing: .ci/run installs axe-core with npm")
        pytest.skip("axe-core is not installed (npm install --prefix .ci/node axe-core)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def phone(chromium, live_server):
    # bypass_csp: axe is injected by the test, not by the page; the page's own policy stays as it is.
    context = chromium.new_context(base_url=live_server.url, locale="zh-CN", bypass_csp=True, **PHONE)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _set_mode(page, large: bool) -> None:
    if ("ph-large" in (page.get_attribute("body", "class") or "")) != large:
        page.click("#large-type-switch")
        page.wait_for_load_state()


def _check_pages(page, axe_source: str, role: str, paths: list[str]) -> list[str]:
    found = []
    for large in (False, True):
        for path in paths:
            response = page.goto(path)
            assert response is not None and response.status == 200, (role, path, response and response.status)
            if ("ph-large" in (page.get_attribute("body", "class") or "")) != large:
                _set_mode(page, large)
                page.goto(path)
            found.extend(
                _check_current(page, axe_source, f"{role} {'large' if large else 'standard'} {path}")
            )
    return found


def _check_current(page, axe_source: str, label: str) -> list[str]:
    """axe, font sizes and tap targets of the page as it is now (also a page a POST answered)."""
    large = "ph-large" in (page.get_attribute("body", "class") or "")
    if SHOTS:
        name = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)
    page.evaluate(axe_source)
    found = [f"{label}: axe {violation}" for violation in page.evaluate(AXE_RUN)]
    measured = page.evaluate(MEASURE, 14)
    if measured["body"] < (20 if large else 16):
        found.append(f"{label}: body text {measured['body']}px")
    found.extend(f"{label}: {problem}" for problem in measured["problems"])
    return found


def _assert_clean(found: list[str]) -> None:
    assert not found, "\n".join(found)


def _case_for(personas):
    seed(SlaPolicy, Milestone, CaseCategory)
    termite = CaseCategory.objects.get(code="termite")
    contractor = Contractor.objects.create(name="白蚁防治所", org=personas.tree.street, priority=1)
    contractor.categories.add(termite)
    contractor.users.add(personas.contractor)
    case = case_services.case_report(
        actor=personas.resident,
        category=termite,
        org=personas.tree.estate_a,
        channel=Channel.ONLINE,
        title="卧室门框出现白蚁",
        phone="13812345678",
        address="康健路 300 弄 5 号 201 室",
    )
    from django.utils import timezone

    return advance(personas, case, None, to="assigned", now=timezone.now())


def test_member_pages(phone, axe_source, personas):
    from kangle.activities import services as activity_services
    from kangle.posts import services as post_services

    member = make_member(
        personas.tree.community_a,
        user=personas.member,
        org=personas.tree.microgrid_a,
        name="李明",
        status=Status.APPROVED,
    )
    aspect = _aspect("convenience", "便民服务")
    kit = Kit(p=personas, member=member, party_org=None, aspect=aspect)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    activity = kit.activity(starts_at=soon)
    call = kit.call(grids=[personas.tree.grid_a], now=soon - dt.timedelta(days=4))
    activity_services.signup_create(actor=personas.member, activity=activity)
    post = post_services.post_create(
        actor=personas.secretary_a,
        **{
            "title": "爱心益剪",
            "aspect": "convenience",
            "org": personas.tree.community_a.code,
            "description": "每周六上午义务理发",
            "required_skills": [],
            "preferred_skills": [],
            "weekly_slots": ["sat_am"],
            "starts_on": dt.date(2026, 1, 1).isoformat(),
            "ends_on": "",
            "sessions": [],
            "capacity": 3,
            "difficulty": 2,
            "needs_confirmation": False,
        },
        publish=True,
    )
    browser_login(phone, "member", PASSWORD)
    paths = [
        "/members/m/home/",
        "/accounts/me/",
        "/members/me/",
        "/members/me/edit/",
        "/posts/for-me/",
        "/posts/mine/",
        f"/posts/p/{post.pk}/",
        "/activities/m/",
        f"/activities/m/{activity.pk}/",
        "/activities/m/calls/",
        f"/activities/m/calls/{call.pk}/",
        "/activities/m/records/",
        "/points/me/",
        "/points/benefits/",
        "/recognition/me/",
        "/recognition/stories/",
        "/notify/inbox/",
    ]
    _assert_clean(_check_pages(phone, axe_source, "member", paths))


def test_resident_pages(phone, axe_source, personas):
    case = _case_for(personas)
    browser_login(phone, "resident", PASSWORD)
    paths = [
        "/",
        "/accounts/me/",
        "/cases/report/",
        "/cases/mine/",
        f"/cases/mine/{case.number}/",
        "/notify/inbox/",
    ]
    _assert_clean(_check_pages(phone, axe_source, "resident", paths))


def _inspection_for(personas, contractor):
    """An open inspection round over one monitoring point, and a running campaign the contractor works with
    a technician of this street."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from kangle.prevention import services as prevention
    from kangle.prevention.models import PlaceType, TeamRole
    from personas import make_user

    now = timezone.now()
    contractor.users.add(make_user("kj_technician", Role.CONTRACTOR, personas.tree.street))
    prevention.point_create(
        actor=personas.street_admin,
        code="MP1",
        name="MP1 树根诱饵站",
        org=personas.tree.estate_a,
        latitude=Decimal("31.164000"),
        longitude=Decimal("121.423000"),
        place_type=PlaceType.GREEN_BELT,
        device_type="地下诱饵站",
        bait_type="氟铃脲饵剂",
        installed_on=now.date() - dt.timedelta(days=60),
        now=now - dt.timedelta(days=30),
    )
    round_ = prevention.round_open(actor=personas.street_admin, org=personas.tree.street, now=now)
    campaign = prevention.campaign_create(
        actor=personas.area_admin,
        name="康乐地毯式巡查",
        org=personas.tree.community_a,
        starts_on=now.date() - dt.timedelta(days=1),
        ends_on=now.date() + dt.timedelta(days=30),
        units=[personas.tree.estate_a],
        team=[(TeamRole.AREA_OFFICE, "第一片区工作站"), (TeamRole.CONTRACTOR, "白蚁防治所")],
        contractor=contractor,
        now=now,
    )
    return round_, campaign


def test_contractor_pages(phone, axe_source, personas):
    case = _case_for(personas)
    round_, campaign = _inspection_for(personas, Contractor.objects.get(name="白蚁防治所"))
    browser_login(phone, "contractor", PASSWORD)
    found = []
    paths = [
        "/",
        "/accounts/me/",
        "/cases/c/",
        f"/cases/c/{case.number}/",
        "/prevention/m/",
        "/notify/inbox/",
    ]
    found += _check_pages(phone, axe_source, "contractor", paths)
    # The inspection pages, as a technician of the contractor working in this street's round and campaign.
    phone.context.clear_cookies()
    browser_login(phone, "kj_technician", PASSWORD)
    paths = [
        "/prevention/m/",
        f"/prevention/m/rounds/{round_.pk}/",
        f"/prevention/m/campaigns/{campaign.pk}/",
    ]
    found += _check_pages(phone, axe_source, "technician", paths)
    _assert_clean(found)


def test_grid_leader_pages(phone, axe_source, personas):
    make_member(personas.tree.community_a, org=personas.tree.microgrid_a, name="李明", status=Status.APPROVED)
    make_member(personas.tree.community_a, org=personas.tree.microgrid_a, name="王五", status=Status.PENDING)
    kit = Kit(p=personas, member=None, party_org=None, aspect=_aspect("convenience", "便民服务"))
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    call = kit.call(grids=[personas.tree.grid_a], now=soon - dt.timedelta(days=4))
    browser_login(phone, "grid_leader", PASSWORD)
    paths = [
        "/activities/m/grid/",
        f"/activities/m/grid/calls/{call.pk}/",
        "/activities/m/grid/todo/",
        "/accounts/me/",
    ]
    _assert_clean(_check_pages(phone, axe_source, "grid_leader", paths))


def test_pages_before_login(phone, axe_source, personas):
    point = personas.tree.point_a.code
    paths = ["/notify/code/", f"/r/{point}/", f"/members/register/?point={point}", "/cases/track/"]
    _assert_clean(_check_pages(phone, axe_source, "anonymous", paths))


def test_pages_answering_a_form(phone, axe_source, personas):
    """The code page once a code is sent and after a wrong code, the sign-up page, and the registration
    form showing an error, in both modes."""
    from kangle.notify.models import OutboxMessage

    found = []
    for large in (False, True):
        mode = "large" if large else "standard"
        phone.goto("/notify/code/")
        _set_mode(phone, large)
        phone.fill("#id_phone", "13977778888")
        phone.click("#code-send")
        phone.wait_for_selector("[data-testid=code-sent]")
        found += _check_current(phone, axe_source, f"anonymous {mode} code sent")
        phone.fill("#id_code", "000000" if large else "999999")
        phone.click("#code-verify")
        phone.wait_for_selector("#code-error, #id_display_name")
        if phone.query_selector("#code-error"):
            found += _check_current(phone, axe_source, f"anonymous {mode} wrong code")
        body = OutboxMessage.objects.filter(reference="login-code").order_by("-id").first().body
        phone.fill("#id_code", re.search(r"\d{6}", body).group(0))
        phone.click("#code-verify")
        phone.wait_for_url("**/notify/signup/")
        found += _check_current(phone, axe_source, f"anonymous {mode} sign-up")
        phone.click("#signup-submit")  # nothing chosen: the community field answers
        phone.wait_for_selector("#community-error")
        found += _check_current(phone, axe_source, f"anonymous {mode} sign-up refused")
        phone.goto(f"/members/register/?point={personas.tree.point_a.code}")
        phone.fill("#id_phone", "123")
        phone.click("#register-submit")  # the required fields left empty answer at their places
        phone.wait_for_selector("#id_name_error")
        found += _check_current(phone, axe_source, f"anonymous {mode} registration refused")
    _assert_clean(found)
