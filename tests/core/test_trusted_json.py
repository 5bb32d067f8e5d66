"""Lists and details written straight to JSON (``core.renderers.trusted_json``) say exactly what their
documented schema says: the same keys, values the schema accepts, and the same document ninja's validation
would have produced."""

from __future__ import annotations

import json

import pytest

from cases.helpers import report, walk_in_body
from kangle.api import api as ninja_api
from kangle.cases.api import CaseDetailOut, CaseOut
from kangle.cases.defaults import seed
from kangle.cases.models import CaseCategory, Milestone, SlaPolicy
from kangle.core.renderers import ORJSONRenderer
from kangle.members import services
from kangle.members.api import MemberRow
from kangle.members.constants import Channel
from kangle.orgs.schemas import UnitOut

pytestmark = pytest.mark.django_db


def _same_as_validated(schema, document: dict) -> None:
    """``document`` has the schema's keys, and validating it then rendering gives the same document."""
    assert set(document) == set(schema.model_fields), sorted(set(document) ^ set(schema.model_fields))
    validated = schema.model_validate(document).model_dump()
    rendered = json.loads(ORJSONRenderer().render(None, validated, response_status=200))
    assert rendered == document


def _page(api, path: str, schema) -> list[dict]:
    response = api.get(path)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"items", "count", "count_capped", "next"}
    assert body["items"], path
    for item in body["items"]:
        _same_as_validated(schema, item)
    return body["items"]


def test_case_list_and_detail(client, api, personas):
    seed(SlaPolicy, Milestone, CaseCategory)
    termite = CaseCategory.objects.get(code="termite")
    case = report(personas, termite)
    client.force_login(personas.secretary_a)
    items = _page(api, "/cases/?status=open", CaseOut)
    assert [item["number"] for item in items] == [case.number]
    clock_fields = {"code", "name", "deadline", "state", "colour", "met_at"}
    assert all(set(clock) == clock_fields for clock in items[0]["clocks"])
    detail = api.get(f"/cases/{case.number}").json()
    _same_as_validated(CaseDetailOut, detail)
    assert detail["events"] and detail["duplicates"] == []
    created = api.post("/cases/", walk_in_body(termite, personas.tree.estate_a, "康健路 300 弄 5 号 201 室"))
    assert created.status_code == 201, created.content[:300]
    _same_as_validated(CaseDetailOut, created.json())
    assert created.json()["duplicates"] == [case.number]


def test_member_list(client, api, personas):
    services.member_register(
        actor=personas.street_admin,
        channel=Channel.DESK,
        data={
            "name": "成员",
            "phone": "13800000001",
            "political_status": "full",
            "community": personas.tree.community_a,
        },
    )
    client.force_login(personas.secretary_a)
    items = _page(api, "/members/", MemberRow)
    assert items[0]["phone"] == "138****0001"


def test_org_units(client, api, personas):
    client.force_login(personas.street_admin)
    items = _page(api, "/orgs/units", UnitOut)
    by_code = {item["code"]: item for item in items}
    community = personas.tree.community_a
    assert by_code[community.code]["parent_code"] == community.parent.code


def test_documented_schemas_unchanged():
    """The OpenAPI document still shows the paged row schemas and the pagination parameters."""
    schema = ninja_api.get_openapi_schema()
    listing = schema["paths"]["/api/v1/cases/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"page", "limit", "offset", "after", "status"}
    ok = listing["responses"][200]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("PagedCaseOut")
    assert schema["paths"]["/api/v1/members/"]["get"]["responses"][200]["content"]["application/json"][
        "schema"
    ]["$ref"].endswith("PagedMemberRow")
