"""Log in with a username or a mobile number; a locked identifier is refused before the password is checked."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from kangle.accounts import throttle
from kangle.accounts.models import User
from kangle.core.crypto import blind_index
from kangle.core.text import is_mobile, normalise_phone, normalise_text
from kangle.core.timeutil import resolve_now


class UsernameOrPhoneBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        identifier = normalise_text(username)
        if throttle.locked_until(identifier):
            if request is not None:
                request.kangle_login_locked = True
            # Run the hasher anyway so a locked account answers as slowly as an open one.
            User().set_password(password)
            return None
        user = self._find(identifier)
        if user is None:
            User().set_password(password)
        elif (
            user.check_password(password)
            and self.user_can_authenticate(user)
            and not one_time_code_expired(user)
        ):
            throttle.clear(identifier)
            return user
        throttle.record_failure(identifier)
        if request is not None and throttle.locked_until(identifier):
            request.kangle_login_locked = True
        return None

    @staticmethod
    def _find(identifier: str) -> User | None:
        phone = normalise_phone(identifier)
        if is_mobile(phone):
            user = User.objects.filter(phone_hash=blind_index(phone)).first()
            if user is not None:
                return user
        return User.objects.filter(username=identifier).first()


def one_time_code_expired(user: User) -> bool:
    """A one-time code an administrator issued opens the account only until it expires."""
    expires = user.one_time_code_expires_at
    return user.must_change_password and expires is not None and expires <= resolve_now(None)
