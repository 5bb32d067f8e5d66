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
from django.db.models import Aggregate, OuterRef, Subquery, TextField
from django.utils import timezone


class RoleRowsJSON(Aggregate):
    """[[role, org path, org id], …] of the aggregated role assignments, as one JSON value."""

    function = "json_group_array"
    template = "%(function)s(json_array(%(expressions)s))"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            function="json_agg",
            template="%(function)s(json_build_array(%(expressions)s))",
        )


def role_rows_subquery():
    """The active role rows of the row's ``user_id`` as one JSON value (parse with ``parse_role_rows``)."""
    from kangle.accounts.models import RoleAssignment

    rows = (
        RoleAssignment.objects.filter(user_id=OuterRef("user_id"), is_active=True)
        .order_by()
        .values("user_id")
        .annotate(rows=RoleRowsJSON("role", "org__path", "org_id"))
        .values("rows")
    )
    return Subquery(rows, output_field=TextField())


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
            # The phone is encrypted and rarely shown: it is decrypted only when a page asks for it.
            session = (
                self.model.objects.select_related("user")
                .defer("user__phone")
                .annotate(user_role_rows=role_rows_subquery())
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
