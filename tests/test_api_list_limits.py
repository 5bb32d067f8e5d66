"""Every list of the API pages in SQL: the query that fetches its rows carries a LIMIT, and the page size a
client asks for is cut to the maximum (issue 12 point 3).

The lists are discovered from the OpenAPI document: every GET operation whose 200 answer is a list, or a
page of one. A list answered through ``kangle.core.pagination.Pagination`` is called as the superuser, and
the queries ``Listing.fetch`` runs (the ones that return the rows) are captured.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kangle.api import api
from kangle.core import pagination
from sql_parts import rows_of

# Lists that are not pages, with the reason. Every other list is answered through
# core.pagination.Pagination and checked below.
NOT_PAGED = {
    # A ranking: the caller asks for the top N (``limit``, at most 100); there is no "next page" of a podium.
    "/api/v1/points/rankings",
}

PAGE_FIELDS = {"items", "count", "count_capped", "next"}


def _list_operations() -> dict[str, str]:
    """{path: "paged" | "plain" | "other-page"} for every GET operation answering with a list."""
    schema = api.get_openapi_schema()
    components = schema["components"]["schemas"]

    def resolve(node: dict) -> dict:
        while "$ref" in node:
            node = components[node["$ref"].rsplit("/", 1)[-1]]
        return node

    found = {}
    for path, operations in schema["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        answer = operation["responses"].get(200) or operation["responses"].get("200") or {}
        body = answer.get("content", {}).get("application/json", {}).get("schema")
        if body is None:
            continue
        body = resolve(body)
        properties = body.get("properties", {})
        if body.get("type") == "array":
            found[path] = "plain"
        elif set(properties) == PAGE_FIELDS and resolve(properties["items"]).get("type") == "array":
            found[path] = "paged"
        elif {"items", "count"} == set(properties):
            found[path] = "other-page"
    return found


LISTS = _list_operations()
PAGED = sorted(path for path, kind in LISTS.items() if kind == "paged")


def test_the_api_has_lists_and_the_discovery_finds_them():
    # A guard on the discovery itself: the activities lists are known to be paged.
    assert "/api/v1/activities/" in PAGED and "/api/v1/activities/calls/{pk}/responses" in PAGED
    assert len(LISTS) >= len(PAGED) >= 6


def test_every_list_uses_the_one_pagination_or_is_named_as_not_yet():
    unconverted = {path for path, kind in LISTS.items() if kind != "paged"}
    missing = sorted(unconverted - NOT_PAGED)
    assert not missing, f"lists not answered through core.pagination.Pagination: {missing}"


@pytest.fixture
def path_values(personas):
    """Values for the path parameters of the paged lists: objects of the superuser's scope."""
    from kangle.activities import services
    from kangle.cases.models import CaseCategory, Contractor
    from kangle.points.services import benefit_create
    from kangle.posts.models import ServiceAspect
    from kangle.posts.services import post_create
    from kangle.prevention.models import TeamRole
    from kangle.prevention.services import campaign_create, round_open
    from posts.conftest import make_member, post_raw

    now = timezone.now()
    aspect = ServiceAspect.objects.filter(is_active=True).order_by("pk").first()
    activity = services.activity_create(
        actor=personas.superuser,
        org=personas.tree.community_a,
        aspect=aspect,
        title="爱心益剪",
        starts_at=now + dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=1, hours=2),
        capacity=5,
    )
    call = services.call_create(
        actor=personas.superuser,
        org=personas.tree.community_a,
        title="暴雨后清理积水",
        place="康乐1小区",
        starts_at=now + dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=3),
        people_needed=2,
        deadline=now + dt.timedelta(hours=1),
    )
    benefit = benefit_create(
        actor=personas.superuser,
        org=personas.tree.street,
        kind="priority_pass",
        name="体检优先",
        min_points=1,
    )
    post = post_create(actor=personas.superuser, publish=True, **post_raw(personas.tree.community_a))
    termite = CaseCategory.objects.get(code="termite")
    contractor = Contractor.objects.create(name="康健白蚁防治所", org=personas.tree.street, priority=1)
    contractor.categories.add(termite)
    campaign = campaign_create(
        actor=personas.superuser,
        name="康乐地毯式巡查",
        org=personas.tree.community_a,
        starts_on=now.date(),
        ends_on=now.date() + dt.timedelta(days=30),
        units=[personas.tree.estate_a],
        team=[(TeamRole.AREA_OFFICE, "第一片区工作站")],
        contractor=contractor,
        now=now,
    )
    inspection_round = round_open(actor=personas.superuser, org=personas.tree.street, now=now)
    # The member persona's own file, for the lists of one member's own things.
    make_member(personas.tree.community_a, user=personas.member, slots=["sat_am"])
    return {
        "/api/v1/orgs/units/{code}/children": {"code": personas.tree.street.code},
        "/api/v1/points/benefits/{benefit_id}/slots": {"benefit_id": benefit.pk},
        "/api/v1/posts/{pk}/claims": {"pk": post.pk},
        "/api/v1/posts/{pk}/candidates": {"pk": post.pk},
        "/api/v1/prevention/campaigns/{campaign_id}/units": {"campaign_id": campaign.pk},
        "/api/v1/prevention/campaigns/{campaign_id}/sprayings": {"campaign_id": campaign.pk},
        "/api/v1/prevention/rounds/{round_id}/readings": {"round_id": inspection_round.pk},
        "/api/v1/activities/{pk}/signups": {"pk": activity.pk},
        "/api/v1/activities/{pk}/attendances": {"pk": activity.pk},
        "/api/v1/activities/calls/{pk}/responses": {"pk": call.pk},
    }


def _url(path: str, path_values: dict) -> str:
    names = re.findall(r"{(\w+)}", path)
    if not names:
        return path
    assert path in path_values, f"{path}: add the object its path names to the path_values fixture"
    return path.format(**path_values[path])


@pytest.fixture
def fetched(monkeypatch):
    """The SQL each ``Listing.fetch`` (or a first page read with its count) runs during a request, one list
    of statements per call."""
    calls: list[list[str]] = []

    def recorded(original):
        def recording(self, *args, **kwargs):
            with CaptureQueriesContext(connection) as captured:
                rows = original(self, *args, **kwargs)
            calls.append([query["sql"] for query in captured.captured_queries])
            return rows

        return recording

    monkeypatch.setattr(pagination.Listing, "fetch", recorded(pagination.Listing.fetch))
    monkeypatch.setattr(
        pagination.Listing, "_first_page_and_counts", recorded(pagination.Listing._first_page_and_counts)
    )
    return calls


def _limits(statements: list[str]) -> list[int]:
    return [int(number) for sql in statements for number in re.findall(r"\bLIMIT (\d+)", sql)]


# Lists of one member's own things are asked by the member; the rest by the superuser.
MEMBER_LISTS = {"/api/v1/points/bookings", "/api/v1/posts/mine", "/api/v1/posts/recommendations"}
# Required query parameters, by list.
QUERY = {"/api/v1/points/rules": lambda personas: {"street": personas.tree.street.code}}
# Lists ranked by their own query (not a Listing): the table their rows come from, and how many rows more
# than the page one batch reads, because some candidates drop out after scoring. Still a LIMIT, bounded
# by the page.
RANKED = {
    "/api/v1/posts/{pk}/candidates": ("members_member", lambda rows: rows + 10),
    "/api/v1/posts/recommendations": ("posts_post", lambda rows: rows * 2 + 10),
}


def _get(client, personas, path, path_values, limit):
    client.force_login(personas.member if path in MEMBER_LISTS else personas.superuser)
    query = {"limit": limit, **(QUERY[path](personas) if path in QUERY else {})}
    return client.get(_url(path, path_values), query)


def _bound(path: str, rows: int) -> int:
    return RANKED[path][1](rows) if path in RANKED else rows


def _row_selects(path, fetched, everything) -> list[str]:
    """The SELECTs that fetched the rows: those of ``Listing.fetch``, or, for a ranked list, the queries of
    the request that read its table."""
    statements = [sql for call in fetched for sql in call]
    if path in RANKED:
        table = RANKED[path][0]
        statements = [q["sql"] for q in everything.captured_queries if table in q["sql"]]
    # A first page's count may ride along with its rows: it carries the count's cap, not the page's limit.
    return [rows_of(sql) for sql in statements if sql.lstrip().upper().startswith(("SELECT", "WITH"))]


@pytest.mark.parametrize("path", PAGED)
def test_the_rows_query_of_every_paged_list_carries_a_limit(path, client, personas, path_values, fetched):
    with CaptureQueriesContext(connection) as everything:
        response = _get(client, personas, path, path_values, 7)
    assert response.status_code == 200, response.content
    assert set(response.json()) == PAGE_FIELDS
    selects = _row_selects(path, fetched, everything)
    assert selects, f"{path}: no SELECT fetched the rows"
    # The rows query carries the page's LIMIT; queries after it load related rows of that page only. A
    # ranked list's ranking query may come after lookups that already name the page's ids.
    ranking = [sql for sql in selects if re.search(r"\bLIMIT \d+", sql)]
    assert ranking if path in RANKED else re.search(r"\bLIMIT \d+", selects[0]), selects
    assert all(re.search(r"\bLIMIT \d+|\bIN \(", sql) for sql in selects), selects
    # the page, or the page and one to see "more"
    assert _limits(selects) and max(_limits(selects)) <= _bound(path, 8)


@pytest.mark.parametrize("path", PAGED)
def test_the_page_size_cannot_exceed_the_maximum(path, client, personas, path_values, fetched):
    asked = pagination.MAX_PAGE_SIZE * 10
    with CaptureQueriesContext(connection) as everything:
        response = _get(client, personas, path, path_values, asked)
    assert response.status_code == 200, response.content
    assert len(response.json()["items"]) <= pagination.MAX_PAGE_SIZE
    limits = _limits(_row_selects(path, fetched, everything))
    assert limits and max(limits) <= _bound(path, pagination.MAX_PAGE_SIZE + 1)
