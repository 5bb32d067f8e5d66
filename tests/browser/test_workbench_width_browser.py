"""Staff on a phone, in a real Chromium at 390 px: every workbench page reachable from the home by links is
no wider than the screen (a wide table scrolls inside itself), its heading is on the first screen (the
navigation's menu is folded), and the header's search box and log-out button stay on screen."""

from __future__ import annotations

import pytest
from django.utils import timezone

from conftest import browser_login
from core.todo_items import cases, kangle_items
from personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 390
# The page's own heading starts within the first screen's upper half (844 px high): above it come only
# the header, one row of navigation, the breadcrumb and at most a short notice.
HEADING_BELOW_AT_MOST = 422
MAX_PAGES = 40
# Links that download a file, switch language or end the session are not pages to look at.
SKIPPED = ("logout", "export", ".xlsx", ".pdf", ".csv", "/static/", "/media/", "/i18n/", "/api/")

# The elements sticking out past the right edge that are not inside something that scrolls or clips.
OVERFLOWING = """(width) => [...document.querySelectorAll('body *')]
  .filter((element) => {
    if (element.getBoundingClientRect().right <= width + 1) return false;
    for (let parent = element.parentElement; parent; parent = parent.parentElement) {
      if (getComputedStyle(parent).overflowX !== 'visible') return false;
    }
    return true;
  })
  .slice(0, 5)
  .map((element) => `${element.tagName.toLowerCase()}.${element.className}`)"""

LINKS = """() => [...document.querySelectorAll('a[href^="/"]')].map((a) => a.getAttribute('href'))"""
# Where a workbench page's heading starts (null: none); phone pages the crawl reaches have their own tests.
HEADING_TOP = """() => {
  const main = document.querySelector('main.wb-main');
  if (!main) return 'not a workbench page';
  const heading = main.querySelector('h1');
  return heading ? heading.getBoundingClientRect().top : null;
}"""


def _crawl(page) -> tuple[dict[str, tuple[int, list[str]]], dict[str, float | None]]:
    """Visit the pages linked from the home, breadth first, and note each HTML page's width and where each
    workbench page's heading starts."""
    seen: set[str] = set()
    widths: dict[str, tuple[int, list[str]]] = {}
    headings: dict[str, float | None] = {}
    queue = ["/"]
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0).split("#")[0]
        if path in seen or any(part in path for part in SKIPPED):
            continue
        seen.add(path)
        response = page.goto(path)
        if (
            response is None
            or response.status != 200
            or "html" not in response.headers.get("content-type", "")
        ):
            continue
        width = page.evaluate("document.documentElement.scrollWidth")
        widths[page.url] = (width, page.evaluate(OVERFLOWING, WIDTH) if width > WIDTH else [])
        top = page.evaluate(HEADING_TOP)
        if top != "not a workbench page":
            headings[page.url] = top
        queue.extend(link for link in page.evaluate(LINKS) if link not in seen)
    return widths, headings


@pytest.mark.parametrize("username", ["street_admin", "area_admin", "secretary_a"])
def test_workbench_pages_fit_a_phone(phone_page, personas, termite, username):
    now = timezone.now()
    kangle_items(personas, 2, now=now)
    cases(personas, termite, 2, now=now)
    browser_login(phone_page, username, PASSWORD)

    header = phone_page.locator(".wb-header")
    for control in (header.locator("input[type=search]"), header.locator("form[action*=logout] button")):
        box = control.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box

    widths, headings = _crawl(phone_page)
    assert len(widths) >= 10, sorted(widths)  # the crawl reached the lists, details and forms
    too_wide = {url: found for url, found in widths.items() if found[0] > WIDTH}
    assert not too_wide, too_wide
    low = {url: top for url, top in headings.items() if top is None or top > HEADING_BELOW_AT_MOST}
    assert not low, low


def test_the_menu_is_folded_on_a_phone_and_opens_to_every_group(phone_page, personas):
    browser_login(phone_page, "street_admin", PASSWORD)
    phone_page.goto("/")
    menu = phone_page.locator(".wb-nav-menu")
    queue = menu.locator("a[href='/cases/desk/']")
    assert menu.get_attribute("open") is None
    assert not queue.is_visible()
    assert phone_page.locator(".wb-nav > a[href='/']").is_visible()  # "To do" stays in sight

    phone_page.click(".wb-nav-menu > summary")
    assert menu.get_attribute("open") is not None
    groups = menu.locator(".wb-nav-group")
    assert groups.count() >= 3 and all(groups.nth(i).is_visible() for i in range(groups.count()))
    for group in range(groups.count()):
        box = groups.nth(group).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH + 1, box
    queue.click()
    phone_page.wait_for_url("**/cases/desk/")
    assert phone_page.locator("main h1").is_visible()


def test_the_menu_stands_open_beside_the_page_on_a_desktop(desk_page, personas):
    browser_login(desk_page, "street_admin", PASSWORD)
    desk_page.goto("/cases/desk/")
    menu = desk_page.locator(".wb-nav-menu")
    assert menu.get_attribute("open") is not None
    assert not menu.locator("summary").is_visible()  # nothing to unfold: the groups are shown
    current = menu.locator("a[aria-current='page']")
    assert current.get_attribute("href") == "/cases/desk/" and current.is_visible()
    nav, main = desk_page.locator(".wb-nav").bounding_box(), desk_page.locator("main").bounding_box()
    assert nav["x"] + nav["width"] <= main["x"] + 1  # beside the page, not above it
