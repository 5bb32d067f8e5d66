"""The session engine: Django's database sessions, with the signed-in user and their role rows loaded by the
same query.

The session row carries the user's id in a column (kept in step with the session data on every save), so
reading the session joins the user and aggregates the user's active role assignments into one JSON value;
``accounts.middleware`` then uses that user instead of asking the authentication backend again, and
``User.role_rows`` is already filled. Roles are read fresh on every request: a role given or taken away
counts from the next request, with nothing to invalidate.
"""

from __future__ import annotations

import json
import logging

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import SuspiciousOperation
from django.db import connection
from django.db.models import TextField
from django.db.models.expressions import RawSQL
from django.utils import timezone

# The user's active role rows as one JSON value, [[role, org path, org id], …]: written as SQL because the
# ORM spends several milliseconds compiling the equivalent aggregate subquery on every request.
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


def role_rows_subquery(outer_user_column: str) -> RawSQL:
    """The active role rows of the user whose id is in ``outer_user_column`` ("table"."column") of the outer
    query, as one JSON value (parse with ``parse_role_rows``)."""
    # Only fixed strings of this module and of its two callers go into the SQL: no user input.
    sql = _ROLE_ROWS_SQL[connection.vendor].format(outer=outer_user_column)
    return RawSQL(f"({sql})", (), TextField())  # noqa: S611


def parse_role_rows(value) -> list[tuple[str, str, int]]:
    if value is None:
        return []
    rows = json.loads(value) if isinstance(value, str | bytes) else value
    return sorted((tuple(row) for row in rows), key=lambda row: (row[1], row[0], row[2]))


class SessionStore(DatabaseSessionStore):
    # The user row read with the session (None when nobody is signed in or the session is not loaded yet).
    loaded_user = None

    @classmethod
    def get_model_class(cls):
        from kangle.accounts.models import UserSession

        return UserSession

    def _get_session_from_db(self):
        try:
            session = (
                self.model.objects.select_related("user")
                .annotate(user_role_rows=role_rows_subquery('"accounts_usersession"."user_id"'))
                .get(session_key=self.session_key, expire_date__gt=timezone.now())
            )
        except (self.model.DoesNotExist, SuspiciousOperation) as error:
            if isinstance(error, SuspiciousOperation):
                logger = logging.getLogger(f"django.security.{error.__class__.__name__}")
                logger.warning(str(error))
            self._session_key = None
            return None
        if session.user is not None:
            session.user.__dict__["role_rows"] = parse_role_rows(session.user_role_rows)
            self.loaded_user = session.user
        return session

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        user_id = data.get(SESSION_KEY)
        instance.user_id = int(user_id) if user_id and str(user_id).isdigit() else None
        return instance
