"""Every workbench page's HTML is well-formed where it matters: one short <title>, one <h1>, unique ids,
no <form> outside <body>, and no raw codes or English words in the Chinese interface."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from kangle.core import navigation
from kangle.core.roles import STAFF_ROLES

pytestmark = pytest.mark.django_db

EXTRA_PAGES = ["home", "reports:search", "reports:cockpit", "notify:inbox"]


class PageShape(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.titles: list[str] = []
        self.h1 = 0
        self.ids: list[str] = []
        self.forms_outside_body = 0
        self.in_body = False
        self.in_title = False
        self.in_script = False
        # Text inside <code> is an identifier shown as such (a username, a category code, an audit verb),
        # not interface wording.
        self.in_code = 0
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "body":
            self.in_body = True
        elif tag == "title":
            self.in_title = True
            self.titles.append("")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "form" and not self.in_body:
            self.forms_outside_body += 1
        elif tag in ("script", "style"):
            self.in_script = True
        elif tag == "code":
            self.in_code += 1

    def handle_endtag(self, tag):
        if tag == "body":
            self.in_body = False
        elif tag == "title":
            self.in_title = False
        elif tag in ("script", "style"):
            self.in_script = False
        elif tag == "code" and self.in_code:
            self.in_code -= 1

    def handle_data(self, data):
        if self.in_title:
            self.titles[-1] += data
        elif self.in_body and not self.in_script and not self.in_code:
            self.text.append(data)


def _workbench_pages() -> list[str]:
    items = navigation.entries_for(set(STAFF_ROLES), is_superuser=True, area="workbench")
    names = [item["url_name"] for item in items] + EXTRA_PAGES
    return sorted(set(names))


@pytest.mark.parametrize("url_name", _workbench_pages())
def test_workbench_page_html(client, personas, url_name):
    client.force_login(personas.street_admin)
    response = client.get(reverse(url_name), HTTP_ACCEPT_LANGUAGE="zh-hans")
    if response.status_code in (403, 404):
        pytest.skip(f"{url_name} is not a street admin's page")
    assert response.status_code == 200, url_name
    html = response.content.decode()
    if 'class="workbench"' not in html:
        pytest.skip(f"{url_name} is a phone page (its own layout and test)")
    shape = PageShape()
    shape.feed(html)
    assert len(shape.titles) == 1, url_name
    title = " ".join(shape.titles[0].split())
    assert 0 < len(title) < 80, title
    assert shape.h1 == 1, url_name
    duplicates = {value for value in shape.ids if shape.ids.count(value) > 1}
    assert not duplicates, (url_name, duplicates)
    assert shape.forms_outside_body == 0, url_name
    visible = " ".join(" ".join(shape.text).split())
    assert "注销" not in visible
    # No English words or raw codes in the Chinese interface (a product name like "Excel" excepted).
    from kangle.accounts.models import User

    # People's names are data: the test personas have plain usernames and no display names.
    usernames = set(User.objects.values_list("username", flat=True))
    words = set(re.findall(r"\b[a-z]{4,}(?:_[a-z]+)*\b", visible)) - {"kangle", "xlsx"} - usernames
    assert not words, (url_name, sorted(words)[:10])


def test_finished_activities_no_longer_show_open_for_sign_up(client, personas):
    import datetime as dt

    from django.utils import timezone

    from core.todo_items import aspect
    from kangle.activities.models import Activity

    ended = timezone.now() - dt.timedelta(days=2)
    activity = Activity.objects.create(
        org=personas.tree.community_a,
        aspect=aspect(),
        title="爱心益剪",
        starts_at=ended - dt.timedelta(hours=3),
        ends_at=ended,
        capacity=10,
        created_at=ended - dt.timedelta(days=7),
    )
    client.force_login(personas.secretary_a)
    listing = client.get("/activities/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    row = listing[listing.index(f'data-activity="{activity.pk}"') :].split("</tr>")[0]
    assert "已结束" in row and "报名中" not in row
