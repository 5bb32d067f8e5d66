"""The API lists' pagination: limit with a maximum, offset or page, seek cursors, capped counts."""

from __future__ import annotations

import pytest

from kangle.core import pagination

pytestmark = pytest.mark.django_db


def _codes(body):
    return [row["code"] for row in body["items"]]


def test_seek_pages_follow_the_offset_pages(client, personas):
    client.force_login(personas.street_admin)
    everything = client.get("/api/v1/orgs/units?limit=100").json()
    assert everything["count"] == len(everything["items"]) > 5 and not everything["count_capped"]
    seen, after = [], None
    while True:
        url = "/api/v1/orgs/units?limit=2" + (f"&after={after}" if after else "")
        body = client.get(url).json()
        seen += _codes(body)
        after = body["next"]
        if after is None:
            break
    assert seen == _codes(everything)
    assert _codes(client.get("/api/v1/orgs/units?limit=2&page=2").json()) == seen[2:4]
    assert _codes(client.get("/api/v1/orgs/units?limit=2&offset=3").json()) == seen[3:5]


def test_limit_has_a_maximum_and_a_bad_cursor_is_a_clear_error(client, personas):
    client.force_login(personas.street_admin)
    assert len(client.get("/api/v1/orgs/units?limit=100000").json()["items"]) <= pagination.MAX_PAGE_SIZE
    bad = client.get("/api/v1/orgs/units?after=nonsense")
    assert bad.status_code == 400 and bad.json()["field"] == "after" and "after" in bad.json()["message"]


def test_count_is_capped(client, personas, monkeypatch):
    client.force_login(personas.street_admin)
    monkeypatch.setattr(pagination, "COUNT_CAP", 3)
    body = client.get("/api/v1/orgs/units?limit=2").json()
    assert body["count"] == 3 and body["count_capped"] is True and len(body["items"]) == 2


def test_parts_merge_in_their_seek_order_whatever_its_directions():
    # Two disjoint parts, each in its database order; merged, they read as one list in the seek order, for
    # one direction throughout (plain values) and for mixed directions (wrapped values).
    import random

    from kangle.core.pagination import _in_seek_order

    rows = [{"day": day, "id": pk} for day in range(6) for pk in range(day * 10, day * 10 + 4)]
    random.Random(7).shuffle(rows)
    for order in (("day", "id"), ("-day", "-id"), ("day", "-id"), ("-day", "id")):

        def key(row, order=order):
            return tuple(-row[name.lstrip("-")] if name.startswith("-") else row[name] for name in order)

        parts = [
            sorted([r for r in rows if r["id"] % 2], key=key),
            sorted([r for r in rows if not r["id"] % 2], key=key),
        ]
        merged = _in_seek_order(parts[0] + parts[1], order, lambda row: (row["day"], row["id"]))
        assert merged == sorted(rows, key=key), order
