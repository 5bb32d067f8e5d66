"""The session engine: Django's database sessions, with the signed-in user loaded by the same query.

The session row carries the user's id in a column (kept in step with the session data on every save), so
reading the session selects the user with it; ``accounts.middleware`` then uses that user instead of
asking the authentication backend for it again.
"""

from __future__ import annotations

import logging

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone


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
                .get(session_key=self.session_key, expire_date__gt=timezone.now())
            )
        except (self.model.DoesNotExist, SuspiciousOperation) as error:
            if isinstance(error, SuspiciousOperation):
                logger = logging.getLogger(f"django.security.{error.__class__.__name__}")
                logger.warning(str(error))
            self._session_key = None
            return None
        self.loaded_user = session.user
        return session

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        user_id = data.get(SESSION_KEY)
        instance.user_id = int(user_id) if user_id and str(user_id).isdigit() else None
        return instance
