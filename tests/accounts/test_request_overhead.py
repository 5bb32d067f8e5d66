"""Signed-in requests: the session and user come from one query, the role rows from the session."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from kangle.accounts.middleware import AuthenticationMiddleware
from kangle.accounts.services import role_assign, role_revoke, token_issue
from kangle.core.roles import Role

pytestmark = pytest.mark.django_db


def _signed_in_request(client, user):
    """Run a request through the session and authentication middleware; return what the view saw."""
    from django.contrib.sessions.middleware import SessionMiddleware

    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    seen = {}

    def view(request):
        seen["authenticated"] = request.user.is_authenticated
        seen["roles"] = request.user.roles
        seen["username"] = request.user.username
        seen["scope_paths"] = request.user.scope_paths
        return HttpResponse("ok")

    def run():
        request = RequestFactory().get("/", HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={cookie}")
        chain = SessionMiddleware(AuthenticationMiddleware(view))
        with CaptureQueriesContext(connection) as queries:
            chain(request)
        return dict(seen), [q["sql"] for q in queries.captured_queries]

    return run


def test_session_user_and_roles_cost_one_query(client, personas):
    run = _signed_in_request(client, personas.area_admin)
    role_assign(actor=None, user=personas.area_admin, role=Role.MEMBER, org=personas.tree.community_a)
    for _request in range(2):
        seen, sql = run()
        assert seen["authenticated"] and seen["username"] == "area_admin"
        assert seen["roles"] == {Role.AREA_ADMIN, Role.MEMBER}
        assert len(sql) == 1, sql
        assert "accounts_usersession" in sql[0] and "accounts_roleassignment" in sql[0]


def test_scope_paths_come_in_path_order(client, personas):
    user = personas.secretary_b
    role_assign(actor=None, user=user, role=Role.COMMUNITY_STAFF, org=personas.tree.community_a)
    run = _signed_in_request(client, user)
    seen, _sql = run()
    assert seen["roles"] == {Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF}
    assert seen["scope_paths"] == sorted([personas.tree.community_a.path, personas.tree.community_b.path])


def test_a_role_change_reaches_the_next_request(client, personas):
    run = _signed_in_request(client, personas.secretary_a)
    assert run()[0]["roles"] == {Role.COMMUNITY_SECRETARY}
    assignment = role_assign(
        actor=None, user=personas.secretary_a, role=Role.AREA_ADMIN, org=personas.tree.area_1
    )
    assert run()[0]["roles"] == {Role.COMMUNITY_SECRETARY, Role.AREA_ADMIN}
    role_revoke(actor=personas.street_admin, assignment=assignment)
    assert run()[0]["roles"] == {Role.COMMUNITY_SECRETARY}


def test_a_changed_password_ends_the_session(client, personas):
    user = personas.secretary_a
    client.force_login(user)
    assert client.get("/").status_code == 200
    user.set_password("another long password")
    user.save(update_fields=["password"])
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_inactive_user_is_signed_out(client, personas):
    user = personas.secretary_a
    client.force_login(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get("/").status_code == 302


def test_token_requests_never_read_the_session(client, personas):
    admin = personas.street_admin
    _row, token = token_issue(actor=admin, user=admin, name="integration")
    client.force_login(personas.secretary_b)  # a browser session on the same client must not be used
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json()["username"] == "street_admin"
    assert not [q for q in queries.captured_queries if "accounts_usersession" in q["sql"]]


def test_a_bad_token_is_refused_even_with_a_session(client, personas):
    client.force_login(personas.secretary_a)
    response = client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION="Bearer kgl_nope_nope")
    assert response.status_code == 401


def test_the_raw_session_query_gives_what_the_orm_gives(client, personas):
    """The session's and the token's queries are compiled once (core.rawrows.Prepared): every column of
    the user and of the row comes back converted as the ORM converts it (aware datetimes, booleans, the
    decrypted phone), on SQLite and PostgreSQL alike."""
    from kangle.accounts.models import ApiToken, User, UserSession
    from kangle.accounts.sessions import fetch_with_user

    user = personas.secretary_a
    user.set_phone("13912345678")
    user.must_change_password = True
    user.save()
    _row, _token = token_issue(actor=personas.street_admin, user=user, name="compare")
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    for model, field, value in (
        (UserSession, "session_key", key),
        (ApiToken, "prefix", _row.prefix),
    ):
        row = fetch_with_user(model, field, value)
        expected = model.objects.get(pk=row.pk)
        for field in model._meta.concrete_fields:
            assert getattr(row, field.attname) == getattr(expected, field.attname), field.name
        orm_user = User.objects.get(pk=user.pk)
        for field in User._meta.concrete_fields:
            assert getattr(row.user, field.attname) == getattr(orm_user, field.attname), field.name
        assert row.user.phone == "13912345678" and row.user.date_joined.tzinfo is not None
        assert row.user.must_change_password is True
        assert row.user.roles == {Role.COMMUNITY_SECRETARY}
        assert not row.user._state.adding and row.user._state.db == "default"
    assert fetch_with_user(ApiToken, "prefix", "nothing") is None


def test_signed_in_requests_decrypt_nothing_until_the_phone_is_used(client, personas, monkeypatch):
    """The user's phone is encrypted: reading it with the session or the token would decrypt it on every
    request. It is read when first used, and is then the stored number."""
    from kangle.accounts.models import ApiToken, UserSession
    from kangle.accounts.sessions import fetch_with_user
    from kangle.core import crypto

    user = personas.secretary_a
    user.set_phone("13912345678")
    user.save()
    _row, _token = token_issue(actor=personas.street_admin, user=user, name="lazy phone")
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    decrypted = []
    real = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda stored: decrypted.append(stored) or real(stored))
    for model, field, value in ((UserSession, "session_key", key), (ApiToken, "prefix", _row.prefix)):
        row = fetch_with_user(model, field, value)
        assert row.user.username == "secretary_a" and row.user.roles == {Role.COMMUNITY_SECRETARY}
        assert decrypted == []
        assert row.user.phone == "13912345678"
        assert len(decrypted) == 1
        decrypted.clear()
    seen, _sql = _signed_in_request(client, user)()
    assert seen["authenticated"] and decrypted == []
