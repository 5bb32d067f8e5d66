"""Lists compiled once per person and shape (``Listing.shaped``): what each request binds never carries one
person's scope, filters or subtree into another's list, and a change of the tree or of a filter's value is
seen at once."""

from __future__ import annotations

import pytest

from cases.helpers import RESIDENT_PHONE, T0, advance, report
from kangle.cases import services
from kangle.cases.models import Case, CaseStatus, Channel
from kangle.orgs.scope import scope_queryset

pytestmark = pytest.mark.django_db


def _numbers(api, path, **params) -> list[str]:
    body = api.get(path, **params).json()
    return [row["number"] for row in body["items"]]


def _expected(actor, **filters) -> list[str]:
    rows = scope_queryset(actor, Case.objects.filter(**filters)).order_by("-reported_at", "-id")
    return list(rows.values_list("number", flat=True))


def test_people_with_the_same_filters_each_get_their_own_cases(client, api, personas, termite):
    in_a = [report(personas, termite, address=f"A {index}") for index in range(3)]
    in_b = [
        services.case_report(
            actor=personas.secretary_b,
            category=termite,
            org=personas.tree.estate_b,
            channel=Channel.WALK_IN,
            title="白蚁",
            address=f"B {index}",
            phone=RESIDENT_PHONE,
            now=T0,
        )
        for index in range(2)
    ]
    assert {case.org_id for case in in_a} != {case.org_id for case in in_b}
    for _turn in range(2):  # alternating, so each reads the SQL compiled for the other before it
        for person, cases in ((personas.secretary_a, in_a), (personas.secretary_b, in_b)):
            client.force_login(person)
            got = _numbers(api, "/cases/", status="open")
            assert got == _expected(person, status__in=[c.status for c in cases]) and len(got) == len(cases)
            assert api.get("/cases/", category="termite").json()["count"] == len(cases)
            assert api.get("/cases/", category="no-such").json()["count"] == 0
    client.force_login(personas.street_admin)
    assert len(_numbers(api, "/cases/")) == 5


def test_a_status_filter_is_bound_not_remembered(client, api, personas, termite, contractor_org, photo):
    reported = report(personas, termite, address="A 1")
    dispatched = report(personas, termite, address="A 2")
    advance(personas, dispatched, photo, to=CaseStatus.DISPATCHED, contractor=contractor_org)
    client.force_login(personas.secretary_a)
    assert _numbers(api, "/cases/", status=CaseStatus.REPORTED) == [reported.number]
    assert _numbers(api, "/cases/", status=CaseStatus.DISPATCHED) == [dispatched.number]
    assert _numbers(api, "/cases/", status="nonsense") == []
    assert _numbers(api, "/cases/", status="open") == [dispatched.number, reported.number]
    # The contractor sees the case dispatched to them, through their own part of the list.
    client.force_login(personas.contractor)
    assert _numbers(api, "/cases/") == [dispatched.number]
    assert _numbers(api, "/cases/", contractor=str(contractor_org.pk)) == [dispatched.number]
    assert _numbers(api, "/cases/", contractor=str(contractor_org.pk + 999)) == []


def test_a_subtree_list_follows_a_moved_unit(client, api, personas):
    tree = personas.tree
    client.force_login(personas.street_admin)
    units = api.get("/orgs/units", under=tree.area_1.code).json()["items"]
    assert tree.community_a.code in [unit["code"] for unit in units]
    moved = api.post(f"/orgs/units/{tree.community_a.code}/move", {"parent_code": tree.area_2.code})
    assert moved.status_code == 200, moved.content
    under_1 = [unit["code"] for unit in api.get("/orgs/units", under=tree.area_1.code).json()["items"]]
    under_2 = [unit["code"] for unit in api.get("/orgs/units", under=tree.area_2.code).json()["items"]]
    assert tree.community_a.code not in under_1 and tree.community_a.code in under_2
    assert api.get("/orgs/units", under=tree.area_2.code, kind="community").json()["count"] == 2
    # Outside the caller's subtree the unit is a 404, as before.
    client.force_login(personas.secretary_b)
    assert api.get("/orgs/units", under=tree.community_a.code).status_code == 404


def _cursor(*values) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "values",
    [
        ({"v": "not a time"}, {"v": "x"}),  # text where the list seeks on a moment
        ({"t": "2026-06-01T08:00:00+00:00"}, {"v": [1]}),
        ({"t": "2026-06-01T08:00:00+00:00"}, {"v": 1.5}),
        ({"t": "2026-06-01T08:00:00+00:00"}, {"v": 2**70}),  # no key holds it
        ({"t": "2026-06-01T08:00:00+00:00"}, {"v": None}),
        ({"t": "2026-06-01T08:00:00+00:00"},),  # one value short
    ],
)
def test_a_forged_cursor_is_a_clear_error(client, api, personas, termite, values):
    report(personas, termite)
    client.force_login(personas.secretary_a)
    response = api.get("/cases/", after=_cursor(*values))
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_cursor" and body["field"] == "after"
    assert body["message"] and body["message_en"]
    members = api.get("/members/", after=_cursor({"v": "/a/"}, {"v": "名"}, {"v": {"id": 1}}))
    assert members.status_code == 400 and members.json()["code"] == "invalid_cursor"


def test_a_contractor_number_no_key_can_hold_finds_nothing(
    client, api, personas, termite, contractor_org, photo
):
    case = report(personas, termite)
    advance(personas, case, photo, to=CaseStatus.DISPATCHED, contractor=contractor_org)
    client.force_login(personas.secretary_a)
    for number in ("9" * 19, "9" * 30):
        response = api.get("/cases/", contractor=number)
        assert response.status_code == 200 and response.json()["count"] == 0
    assert _numbers(api, "/cases/", contractor=str(contractor_org.pk)) == [case.number]
