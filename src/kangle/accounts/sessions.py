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
from django.db.models import TextField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from kangle.core.rawrows import Prepared

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


def _role_rows(outer_user_column: str) -> RawSQL:
    """The active role rows of the user whose id is in ``outer_user_column`` ("table"."column") of the outer
    query, as one JSON value (parse with ``parse_role_rows``)."""
    # Only fixed strings of this module go into the SQL: no user input.
    sql = _ROLE_ROWS_SQL[connection.vendor].format(outer=outer_user_column)
    return RawSQL(f"({sql})", (), TextField())  # noqa: S611


@functools.cache
def _with_user(model, key: str) -> Prepared:
    table = model._meta.db_table
    # The user's phone is left unread: it is encrypted, so loading it meant a decryption on every request,
    # and few requests use it (Django reads a deferred field when it is first used).
    return Prepared(
        lambda value: (
            model.objects.select_related("user")
            .defer("user__phone")
            .annotate(user_role_rows=_role_rows(f'"{table}"."user_id"'))
            .filter(**{key: value})[:1]
        )
    )


def fetch_with_user(model, key: str, value):
    """The row of ``model`` (which has a ``user`` foreign key) whose unique ``key`` is ``value``, with its
    user and the user's role rows: one query, compiled once per process (``core.rawrows.Prepared``: building
    it with the ORM on every request cost more than running it). ``row.user`` has ``role_rows`` filled;
    None when nothing matches."""
    row = _with_user(model, key).first(value)
    if row is not None and row.user is not None:
        row.user.__dict__["role_rows"] = parse_role_rows(row.user_role_rows)
    return row


class SessionStore(DatabaseSessionStore):
    # The user row read with the session (None when nobody is signed in or the session is not loaded yet).
    loaded_user = None

    @classmethod
    def get_model_class(cls):
        from kangle.accounts.models import UserSession

        return UserSession

    def _get_session_from_db(self):
        session = fetch_with_user(self.model, "session_key", self.session_key)
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None
            return None
        self.loaded_user = session.user
        return session

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        user_id = data.get(SESSION_KEY)
        instance.user_id = int(user_id) if user_id and str(user_id).isdigit() else None
        return instance
