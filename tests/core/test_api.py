"""The one JSON API: OpenAPI schema and docs page, the error format, session writes need CSRF."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_openapi_schema_lists_the_scoped_endpoints_and_the_docs_page_answers(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in [
        "/api/v1/orgs/units",
        "/api/v1/orgs/units/{code}",
        "/api/v1/orgs/units/{code}/children",
        "/api/v1/orgs/units/{code}/move",
        "/api/v1/orgs/venues",
        "/api/v1/orgs/registration-points",
        "/api/v1/accounts/tokens",
        "/api/v1/accounts/me",
    ]:
        assert path in paths, path
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert "openapi.json" in docs.content.decode()


def test_session_writes_need_the_csrf_token(personas):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(personas.street_admin)
    payload = {"kind": "estate", "code": "KJ-C08-E7", "name": "新小区", "parent_code": "KJ-C08"}
    response = strict.post("/api/v1/orgs/units", payload, content_type="application/json")
    assert response.status_code in (401, 403)
    assert response.json()["message_en"]
    # With the token from the cookie (as htmx sends it), the same write goes through.
    strict.get("/accounts/login/")
    token = strict.cookies["csrftoken"].value
    response = strict.post(
        "/api/v1/orgs/units", payload, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201


def test_me_shows_roles_and_a_masked_phone(api, client, personas):
    client.force_login(personas.secretary_a)
    body = api.get("/accounts/me").json()
    assert body["phone"] == "139****0003"
    assert body["roles"] == [{"role": "community_secretary", "org_code": "KJ-C01"}]


def test_an_unknown_api_path_answers_in_the_api_error_format(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["message_en"] == "No such endpoint"
