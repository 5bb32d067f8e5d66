"""The API at its edges: numbers the database cannot hold, bodies of the wrong shape, unexpected errors,
the OpenAPI document (unique schema names, built once per process)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.test import Client
from ninja import Schema

from kangle.members import services
from kangle.members.constants import Channel, Status
from kangle.members.models import Member

pytestmark = pytest.mark.django_db

TOO_BIG = 9223372036854775808  # 2**63: one more than a signed 64-bit column holds


def _member(personas):
    return services.member_register(
        actor=personas.street_admin,
        channel=Channel.DESK,
        data={
            "name": "成员",
            "phone": "13800001234",
            "political_status": "full",
            "community": personas.tree.community_a,
        },
    ).member


def _is_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] and body["message"] and body["message_en"]
    return body


@pytest.mark.parametrize(
    "path",
    [
        f"/members/?offset={TOO_BIG}",
        f"/members/?limit={TOO_BIG}",
        f"/posts/?offset={TOO_BIG}",
        f"/cases/?page={TOO_BIG}",
        "/cases/?page=9223372036854775",  # fits 64 bits, but page × page size does not
        f"/prevention/points?page={TOO_BIG}",
    ],
)
def test_an_oversized_number_in_a_list_query_is_a_422(client, api, personas, path):
    client.force_login(personas.street_admin)
    body = _is_json_error(api.get(path), 422)
    assert body["code"] == "invalid_input"
    assert body["fields"][0]["field"] in ("offset", "limit", "page")


def test_an_oversized_id_in_a_body_list_is_a_422_naming_the_field(client, api, personas):
    client.force_login(personas.street_admin)
    response = api.post("/posts/bulk/proposals", {"post_ids": [1, 12345678901234567890]})
    body = _is_json_error(response, 422)
    assert body["fields"] == [{"field": "post_ids.1", "problem": "数值超出范围 / number out of range"}]


def test_an_oversized_id_in_the_path_is_a_422(client, api, personas):
    client.force_login(personas.street_admin)
    _is_json_error(api.get(f"/members/{TOO_BIG}"), 422)


@pytest.mark.parametrize("body", ["5", "[1, 2]", '"text"'])
def test_leave_with_a_body_that_is_not_an_object_is_refused(client, personas, body):
    member = _member(personas)
    client.force_login(personas.street_admin)
    response = client.post(f"/api/v1/members/{member.pk}/leave", body, content_type="application/json")
    payload = _is_json_error(response, 422)
    assert payload["fields"][0]["field"] == ""
    assert "JSON 对象" in payload["fields"][0]["problem"]
    member.refresh_from_db()
    assert member.status != Status.LEFT  # nothing changed


def test_leave_with_an_object_body_still_works(client, api, personas):
    member = _member(personas)
    client.force_login(personas.street_admin)
    assert api.post(f"/members/{member.pk}/leave", {"reason": "搬离"}).json()["status"] == Status.LEFT


def test_an_unexpected_error_on_the_api_answers_json_500(personas, monkeypatch):
    from kangle.members import selectors

    def broken(*args, **kwargs):
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr(selectors, "members_for", broken, raising=False)
    monkeypatch.setattr(Member.objects, "filter", broken)
    # The list's SQL may already be compiled in this process; its rows still pass through this.
    monkeypatch.setattr(selectors, "with_phone_masks", broken)
    client = Client(raise_request_exception=False)
    client.force_login(personas.street_admin)
    body = _is_json_error(client.get("/api/v1/members/"), 500)
    assert body["code"] == "server_error"
    assert "something nobody expected" not in str(body)  # no internals leak


def _kangle_schemas():
    def below(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    import kangle.api  # noqa: F401 - every router, so every schema class, is loaded

    return [cls for cls in below(Schema) if cls.__module__.startswith("kangle.")]


def test_openapi_schema_names_are_unique():
    """Two schema classes of one name make the OpenAPI document describe one with the other's fields."""
    modules = defaultdict(set)
    for cls in _kangle_schemas():
        modules[cls.__name__].add(f"{cls.__module__}.{cls.__qualname__}")
    clashes = {name: sorted(where) for name, where in modules.items() if len(where) > 1}
    assert not clashes


def test_openapi_documents_case_categories_with_their_own_schema(client):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/cases/categories"]["get"]
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    reference = document["components"]["schemas"][page]["properties"]["items"]["items"]["$ref"]
    name = reference.rsplit("/", 1)[1]
    from kangle.cases.api import CaseCategoryOut

    assert name == "CaseCategoryOut"
    assert set(document["components"]["schemas"][name]["properties"]) == set(CaseCategoryOut.model_fields)


def test_openapi_document_is_built_once_per_process(client, monkeypatch):
    from ninja import NinjaAPI

    from kangle.api import api

    api.__dict__.pop("_schema_cache", None)
    builds = []
    real = NinjaAPI.get_openapi_schema

    def counting(self, **kwargs):
        builds.append(1)
        return real(self, **kwargs)

    monkeypatch.setattr(NinjaAPI, "get_openapi_schema", counting)
    first = client.get("/api/v1/openapi.json")
    second = client.get("/api/v1/openapi.json")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert len(builds) == 1
