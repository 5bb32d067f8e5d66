"""API tokens: issued by street admins, stored hashed, revocable; bearer auth on /api/v1/."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.db import connection

from conftest import JsonApi
from kangle.accounts import services
from kangle.accounts.models import ApiToken, User
from kangle.core.errors import NotAllowed, UserError

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def issue(personas, acts_as=None, name="街道数据大屏"):
    actor = User.objects.get(pk=personas.street_admin.pk)
    return services.token_issue(actor=actor, user=acts_as or personas.secretary_a, name=name)


def test_a_valid_token_acts_as_its_user_and_records_its_use(client, personas):
    row, token = issue(personas)
    assert row.last_used_at is None
    api = JsonApi(client, token=token)
    response = api.get("/accounts/me")
    assert response.status_code == 200
    assert response.json()["username"] == "secretary_a"
    row.refresh_from_db()
    assert row.last_used_at is not None
    # The token carries its user's scope: community A yes, community B no.
    assert api.get("/orgs/units/KJ-C01").status_code == 200
    assert api.get("/orgs/units/KJ-C08").status_code == 404


def test_last_used_is_touched_at_most_once_a_minute(client, personas):
    row, token = issue(personas)
    api = JsonApi(client, token=token)
    with time_machine.travel(T0, tick=False):
        assert api.get("/accounts/me").status_code == 200
    row.refresh_from_db()
    assert row.last_used_at == T0
    with time_machine.travel(T0 + dt.timedelta(seconds=59), tick=False):
        assert api.get("/accounts/me").status_code == 200
    row.refresh_from_db()
    assert row.last_used_at == T0
    with time_machine.travel(T0 + dt.timedelta(seconds=61), tick=False):
        assert api.get("/accounts/me").status_code == 200
    row.refresh_from_db()
    assert row.last_used_at == T0 + dt.timedelta(seconds=61)


def _assert_401(response):
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "unauthorized"
    assert body["message"] == "需要登录或有效的 API 令牌"
    assert body["message_en"] == "A session or a valid API token is required"


def test_a_revoked_token_is_refused(client, personas):
    row, token = issue(personas)
    api = JsonApi(client, token=token)
    assert api.get("/accounts/me").status_code == 200
    services.token_revoke(actor=User.objects.get(pk=personas.street_admin.pk), token=row)
    _assert_401(api.get("/accounts/me"))
    _assert_401(api.get("/orgs/units"))


@pytest.mark.parametrize(
    "make_bad",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # right prefix, wrong secret
        lambda token: token.split("_", 2)[0] + "_" + token.split("_", 2)[1],  # prefix only
        lambda token: "kg_",
        lambda token: "kg_________",
        lambda token: "kg_deadbeef_" + "x" * 43,  # unknown prefix
        lambda token: "not-a-kangle-token",
        lambda token: token.upper(),
        lambda token: "中文令牌",
    ],
)
def test_a_wrong_or_malformed_token_is_refused(client, personas, make_bad):
    _row, token = issue(personas)
    bad = make_bad(token)
    assert bad != token
    response = client.get("/api/v1/accounts/me", headers={"Authorization": f"Bearer {bad}"})
    _assert_401(response)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc"])
def test_a_missing_token_is_refused(client, personas, header):
    issue(personas)
    headers = {"Authorization": header} if header is not None else {}
    _assert_401(client.get("/api/v1/orgs/units", headers=headers))


def test_a_token_of_a_deactivated_user_is_refused(client, personas):
    _row, token = issue(personas)
    User.objects.filter(pk=personas.secretary_a.pk).update(is_active=False)
    _assert_401(JsonApi(client, token=token).get("/accounts/me"))


def test_the_token_is_stored_hashed_only(client, personas):
    row, token = issue(personas)
    secret = token.split("_", 2)[2]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken WHERE id = %s", [row.pk])
        stored = cursor.fetchone()
    dump = " ".join(str(value) for value in stored)
    assert token not in dump
    assert secret not in dump
    assert row.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.prefix in token  # only the short public prefix is kept in clear, to find the row


def test_street_admin_issues_and_revokes_through_the_api(api, client, personas):
    client.force_login(personas.street_admin)
    response = api.post("/accounts/tokens", {"name": "区平台对接", "username": "secretary_a"})
    assert response.status_code == 201
    body = response.json()
    token, prefix = body["token"], body["prefix"]
    assert body["username"] == "secretary_a" and body["revoked_at"] is None
    listed = api.get("/accounts/tokens").json()["items"]
    assert [t["prefix"] for t in listed] == [prefix]
    assert "token" not in listed[0]  # shown once, at issue
    assert JsonApi(client.__class__(), token=token).get("/accounts/me").status_code == 200
    response = api.post(f"/accounts/tokens/{prefix}/revoke")
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    _assert_401(JsonApi(client.__class__(), token=token).get("/accounts/me"))


def test_issuing_for_an_unknown_user_names_the_field(api, client, personas):
    client.force_login(personas.street_admin)
    response = api.post("/accounts/tokens", {"name": "x", "username": "nobody"})
    assert response.status_code == 404
    assert response.json()["field"] == "username"
    response = api.post("/accounts/tokens", {"name": "   ", "username": "secretary_a"})
    assert response.status_code == 400
    assert response.json()["field"] == "name"
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "who",
    [
        "area_admin",
        "secretary_a",
        "secretary_b",
        "grid_leader",
        "member",
        "resident",
        "contractor",
        "employer",
    ],
)
def test_only_street_admins_issue_or_revoke(api, client, personas, who):
    row, _token = issue(personas)
    client.force_login(getattr(personas, who))
    assert api.get("/accounts/tokens").status_code == 404
    assert api.post("/accounts/tokens", {"name": "x", "username": who}).status_code == 404
    assert api.post(f"/accounts/tokens/{row.prefix}/revoke").status_code == 404
    assert client.get("/accounts/tokens/").status_code == 404
    assert client.post("/accounts/tokens/", {"name": "x", "username": who}).status_code == 404
    assert client.post(f"/accounts/tokens/{row.prefix}/revoke/").status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None
    assert ApiToken.objects.count() == 1
    with pytest.raises(NotAllowed):
        services.token_issue(
            actor=User.objects.get(pk=getattr(personas, who).pk), user=personas.member, name="x"
        )


def test_a_street_admin_cannot_revoke_another_admins_token(api, client, personas):
    from kangle.core.roles import Role
    from personas import make_user

    other_admin = make_user("hn_admin", Role.STREET_ADMIN, personas.tree.other_street)
    row, _token = issue(personas)
    client.force_login(other_admin)
    assert api.post(f"/accounts/tokens/{row.prefix}/revoke").status_code == 404
    assert client.post(f"/accounts/tokens/{row.prefix}/revoke/").status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None


def test_the_token_page_shows_a_new_token_once(client, personas):
    client.force_login(personas.street_admin)
    response = client.post("/accounts/tokens/", {"name": "大屏", "username": "secretary_a"})
    assert response.status_code == 200
    row = ApiToken.objects.get()
    issued = response.context["issued"]
    assert issued.startswith("kg_" + row.prefix + "_")
    assert issued in response.content.decode()
    again = client.get("/accounts/tokens/")
    assert issued not in again.content.decode()
    assert row.prefix in again.content.decode()
    response = client.post(f"/accounts/tokens/{row.prefix}/revoke/")
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None


@pytest.mark.parametrize("target", ["superuser", "contractor"])
def test_a_street_admin_cannot_issue_a_token_acting_as_someone_outside_the_street(
    api, client, personas, target
):
    """A token acting as the superuser, or as someone of another street, would widen the admin's own scope."""
    username = getattr(personas, target).username
    client.force_login(personas.street_admin)
    response = api.post("/accounts/tokens", {"name": "越权", "username": username})
    assert response.status_code == 404
    assert response.json()["field"] == "username"
    response = client.post("/accounts/tokens/", {"name": "越权", "username": username})
    assert response.context["issued"] is None
    assert "username" in response.context["form"].errors
    assert not ApiToken.objects.exists()
    with pytest.raises(UserError):
        services.token_issue(
            actor=User.objects.get(pk=personas.street_admin.pk), user=getattr(personas, target), name="x"
        )


def test_a_superuser_may_issue_a_token_for_anyone(personas):
    row, _token = services.token_issue(
        actor=personas.superuser, user=personas.contractor, name="白蚁防治对接"
    )
    assert row.user_id == personas.contractor.pk


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer not-a-token", "bearer a b", "Bearer 中文"])
def test_a_malformed_token_on_a_write_is_401_json_not_a_csrf_403(personas, header):
    """Even with a logged-in session: a request that brings an Authorization header is judged by it."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.secretary_a)
    response = client.post(
        "/api/v1/accounts/tokens",
        {"name": "x", "user": "secretary_a"},
        content_type="application/json",
        headers={"Authorization": header},
    )
    _assert_401(response)
    assert "CSRF" not in response.content.decode()
