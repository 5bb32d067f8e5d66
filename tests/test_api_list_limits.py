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

# Lists not yet answered through core.pagination.Pagination (their apps convert them in their own
# branches; the set is emptied once those land). A list named here is not checked for its LIMIT; a list
# missing from here must use Pagination. Entries already converted do no harm and are checked as well.
NOT_YET_PAGINATED = {
    # accounts: one user's own API tokens
    "/api/v1/accounts/tokens",
    # orgs: the children of one unit
    "/api/v1/orgs/units/{code}/children",
    # people and audit
    "/api/v1/people/assignments",
    "/api/v1/audit/events",
    # members: employer Party organisations
    "/api/v1/party-orgs/",
    # cases and their reference lists
    "/api/v1/cases/categories",
    "/api/v1/reference/categories",
    "/api/v1/reference/contractors",
    # prevention (ninja's LimitOffsetPagination or plain lists)
    "/api/v1/prevention/points",
    "/api/v1/prevention/rounds",
    "/api/v1/prevention/rounds/{round_id}/readings",
    "/api/v1/prevention/warnings",
    "/api/v1/prevention/campaigns",
    "/api/v1/prevention/campaigns/{campaign_id}/units",
    "/api/v1/prevention/campaigns/{campaign_id}/sprayings",
    # drills
    "/api/v1/drills/homes",
    # posts
    "/api/v1/posts/catalogue",
    "/api/v1/posts/recommendations",
    "/api/v1/posts/mine",
    "/api/v1/posts/",
    "/api/v1/posts/{pk}/claims",
    "/api/v1/posts/{pk}/candidates",
    # points and adjustments
    "/api/v1/points/rules",
    "/api/v1/points/benefits",
    "/api/v1/points/benefits/{benefit_id}/slots",
    "/api/v1/points/bookings",
    "/api/v1/points/rankings",
    "/api/v1/adjustments/requests",
    # recognition
    "/api/v1/recognition/letters",
    "/api/v1/recognition/nominations",
    "/api/v1/recognition/stories",
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
    missing = sorted(unconverted - NOT_YET_PAGINATED)
    assert not missing, f"lists not answered through core.pagination.Pagination: {missing}"


@pytest.fixture
def path_values(personas):
    """Values for the path parameters of the paged lists: objects of the superuser's scope."""
    from kangle.activities import services
    from kangle.posts.models import ServiceAspect

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
    return {
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
    """The SQL each ``Listing.fetch`` runs during a request, one list of statements per call."""
    calls: list[list[str]] = []
    original = pagination.Listing.fetch

    def recording(self, **kwargs):
        with CaptureQueriesContext(connection) as captured:
            rows = original(self, **kwargs)
        calls.append([query["sql"] for query in captured.captured_queries])
        return rows

    monkeypatch.setattr(pagination.Listing, "fetch", recording)
    return calls


def _limits(statements: list[str]) -> list[int]:
    return [int(number) for sql in statements for number in re.findall(r"\bLIMIT (\d+)", sql)]


@pytest.mark.parametrize("path", PAGED)
def test_the_rows_query_of_every_paged_list_carries_a_limit(path, client, personas, path_values, fetched):
    client.force_login(personas.superuser)
    with CaptureQueriesContext(connection) as everything:
        response = client.get(_url(path, path_values), {"limit": 7})
    assert response.status_code == 200, response.content
    assert set(response.json()) == PAGE_FIELDS
    assert fetched, f"{path} did not fetch its rows through core.pagination"
    statements = [sql for call in fetched for sql in call]
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert selects, f"{path}: no SELECT fetched the rows"
    assert all(re.search(r"\bLIMIT \d+", sql) for sql in selects), selects
    assert _limits(selects) and max(_limits(selects)) <= 7
    assert len(everything.captured_queries) >= len(statements)


@pytest.mark.parametrize("path", PAGED)
def test_the_page_size_cannot_exceed_the_maximum(path, client, personas, path_values, fetched):
    client.force_login(personas.superuser)
    asked = pagination.MAX_PAGE_SIZE * 10
    response = client.get(_url(path, path_values), {"limit": asked})
    assert response.status_code == 200, response.content
    assert len(response.json()["items"]) <= pagination.MAX_PAGE_SIZE
    limits = _limits([sql for call in fetched for sql in call])
    assert limits and max(limits) <= pagination.MAX_PAGE_SIZE
