"""Per staff role, in a real Chromium: open the workbench home and follow the first to-do line to the item."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from conftest import browser_login
from core.todo_items import cases, kangle_items
from kangle.activities.models import WhistleCall
from personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What a row of each list the to-do lines lead to looks like (the item itself, or a link to it).
ITEM_ROWS = "tr[data-member], tr[data-number], tr[data-call], tr[data-post], tr[data-record], [data-testid=nominations] tbody tr"


@pytest.mark.parametrize("username", ["street_admin", "area_admin", "secretary_a", "grid_leader"])
def test_home_first_line_leads_to_the_item(desk_page, personas, termite, username):
    now = timezone.now()
    kangle_items(personas, 1, now=now)
    cases(personas, termite, 1, now=now)
    if username == "grid_leader":
        # A grid leader's to-do is the calls blown in their grid.
        WhistleCall.objects.create(
            org=personas.tree.grid_a,
            title="楼道积水清理",
            place="1号楼",
            starts_at=now + dt.timedelta(hours=2),
            ends_at=now + dt.timedelta(hours=4),
            people_needed=4,
            deadline=now + dt.timedelta(hours=1),
            created_at=now - dt.timedelta(hours=1),
        )
    browser_login(desk_page, username, PASSWORD)
    if username == "grid_leader":
        # A grid leader works on the phone: home is their grid, whose to-do leads to the call.
        desk_page.goto("/")
        desk_page.wait_for_url("**/activities/m/grid/")
        desk_page.goto("/activities/m/grid/todo/")
        first_call = desk_page.locator("#todo-short a").first
        title = first_call.inner_text().split("\n")[0].strip()
        first_call.click()
        desk_page.wait_for_url("**/activities/m/grid/calls/*/")
        assert desk_page.locator("h1").inner_text().strip() == title
        return
    desk_page.goto("/")
    first = desk_page.locator(".todo-line a").first
    first.wait_for()
    key = desk_page.locator(".todo-line").first.get_attribute("data-todo")
    target = first.get_attribute("href")
    first.click()
    desk_page.wait_for_url(f"**{target}")
    rows = desk_page.locator(ITEM_ROWS)
    assert rows.count() >= 1, key
    link = rows.first.locator("a").first
    if link.count():
        link.click()
        desk_page.wait_for_load_state()
        assert desk_page.locator("h1").count() == 1
        assert "/accounts/login/" not in desk_page.url
