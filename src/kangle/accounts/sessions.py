"""The session engine: Django's database sessions, with the signed-in user and their role rows loaded by the
same query.

The session row carries the user's id in a column (kept in step with the session data on every save), so
reading the session joins the user and aggregates the user's active role assignments into one JSON value;
``accounts.middleware`` then uses that user instead of asking the authentication backend again, and
``User.role_rows`` is already filled. Roles are read fresh on every request: a role given or taken away
counts from the next request, with nothing to invalidate.
"""

from __future__ import annotations

import functools
import json

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connection
from django.utils import timezone

from kangle.core.rawrows import ModelColumns

# The user's active role rows as one JSON value, [[role, org path, org id], …].
_ROLE_ROWS_SQL = {
    "postgresql": (
        "SELECT json_agg(json_build_array(ra.role, o.path, ra.org_id)) FROM accounts_roleassignment ra "
        "JOIN orgs_orgunit o ON o.id = ra.org_id WHERE ra.user_id = {outer} AND ra.is_active"
    ),
    "sqlite": (
        "SELECT json_group_array(json_array(ra.role, o.path, ra.org_id)) FROM accounts_roleassignment ra "
        "JOIN orgs_orgunit o ON o.id = ra.org_id WHERE ra.user_id = {outer} AND ra.is_active"
    ),
}


def parse_role_rows(value) -> list[tuple[str, str, int]]:
    if value is None:
        return []
    rows = json.loads(value) if isinstance(value, str | bytes) else value
    return sorted((tuple(row) for row in rows), key=lambda row: (row[1], row[0], row[2]))


@functools.cache
def _columns(model) -> tuple[ModelColumns, ModelColumns]:
    from kangle.accounts.models import User

    return ModelColumns(model, "x"), ModelColumns(User, "u")


@functools.cache
def _with_user_sql(model, where: str, vendor: str) -> str:
    row_columns, user_columns = _columns(model)
    roles = _ROLE_ROWS_SQL[vendor].format(outer="x.user_id")
    return (
        f"SELECT {row_columns.select()}, {user_columns.select()}, ({roles}) "  # noqa: S608 - fixed names
        f"FROM {model._meta.db_table} x LEFT JOIN {user_columns.model._meta.db_table} u ON u.id = x.user_id "
        f"WHERE {where}"
    )


def fetch_with_user(model, where: str, params: list):
    """The first row of ``model`` (which has a ``user`` foreign key) matching ``where`` (fixed SQL over the
    alias ``x``), with its user and the user's role rows: one query, its SQL written once per process (see
    ``core.rawrows``: building it with the ORM on every request cost more than running it). The user is
    cached on the row (``row.user``) with ``role_rows`` filled; None when nothing matches."""
    row_columns, user_columns = _columns(model)
    with connection.cursor() as cursor:
        cursor.execute(_with_user_sql(model, where, connection.vendor), params)
        values = cursor.fetchone()
    if values is None:
        return None
    split = len(row_columns)
    row = row_columns.build(values[:split], connection.alias)
    user = user_columns.build(values[split : split + len(user_columns)], connection.alias)
    if user is not None:
        user.__dict__["role_rows"] = parse_role_rows(values[-1])
    row._state.fields_cache["user"] = user
    return row


class SessionStore(DatabaseSessionStore):
    # The user row read with the session (None when nobody is signed in or the session is not loaded yet).
    loaded_user = None

    @classmethod
    def get_model_class(cls):
        from kangle.accounts.models import UserSession

        return UserSession

    def _get_session_from_db(self):
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        session = fetch_with_user(
            self.model, "x.session_key = %s AND x.expire_date > %s", [self.session_key, now]
        )
        if session is None:
            self._session_key = None
            return None
        self.loaded_user = session.user
        return session

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        user_id = data.get(SESSION_KEY)
        instance.user_id = int(user_id) if user_id and str(user_id).isdigit() else None
        return instance
