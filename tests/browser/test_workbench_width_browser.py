"""Staff on a phone, in a real Chromium at 390 px: every workbench page reachable from the home by links is
no wider than the screen (a wide table scrolls inside itself), and the header's search box and log-out button
stay on screen."""

from __future__ import annotations

import pytest
from django.utils import timezone

from conftest import browser_login
from core.todo_items import cases, kangle_items
from personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 390
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


def _crawl(page) -> dict[str, tuple[int, list[str]]]:
    """Visit the pages linked from the home, breadth first, and note each HTML page's width."""
    seen: set[str] = set()
    widths: dict[str, tuple[int, list[str]]] = {}
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
        queue.extend(link for link in page.evaluate(LINKS) if link not in seen)
    return widths


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

    widths = _crawl(phone_page)
    assert len(widths) >= 10, sorted(widths)  # the crawl reached the lists, details and forms
    too_wide = {url: found for url, found in widths.items() if found[0] > WIDTH}
    assert not too_wide, too_wide
