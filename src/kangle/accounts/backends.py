"""Log in with a username or a mobile number; a locked account is refused before the password is checked.

Failures are counted per ACCOUNT (``core.throttle``, scope ``login``), so the username and the phone number
of one person share one counter. An identifier that matches no account is counted under its own
(normalised) spelling, so the lockout behaves the same whether or not an account exists.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from kangle.accounts.models import User
from kangle.core import throttle
from kangle.core.crypto import blind_index
from kangle.core.text import is_mobile, normalise_phone, normalise_text

SCOPE = "login"


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.KANGLE_LOGIN_LOCK_MINUTES)


def find_account(identifier: str) -> User | None:
    phone = normalise_phone(identifier)
    if is_mobile(phone):
        user = User.objects.filter(phone_hash=blind_index(phone)).first()
        if user is not None:
            return user
    return User.objects.filter(username=identifier).first()


def lockout_key(identifier: str, user: User | None) -> str:
    if user is not None:
        return f"user:{user.pk}"
    phone = normalise_phone(identifier)
    return "unknown:" + (phone if is_mobile(phone) else identifier.lower())


def attempt(identifier: str, user: User | None) -> bool:
    """Reserve one login attempt for the account; False when it is locked."""
    return throttle.hit(
        SCOPE, lockout_key(identifier, user), limit=settings.KANGLE_LOGIN_MAX_FAILURES, window=_window()
    )


def is_locked(identifier: str) -> bool:
    user = find_account(normalise_text(identifier))
    return throttle.is_blocked(
        SCOPE,
        lockout_key(normalise_text(identifier), user),
        limit=settings.KANGLE_LOGIN_MAX_FAILURES,
        window=_window(),
    )


class UsernameOrPhoneBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        identifier = normalise_text(username)
        user = find_account(identifier)
        # The attempt is counted before the password is checked: parallel guesses cannot overtake the count.
        if not attempt(identifier, user):
            if request is not None:
                request.kangle_login_locked = True
            # Run the hasher anyway so a locked account answers as slowly as an open one.
            User().set_password(password)
            return None
        if user is None:
            User().set_password(password)
        elif user.check_password(password) and self.user_can_authenticate(user):
            throttle.reset(SCOPE, lockout_key(identifier, user))
            return user
        if request is not None and throttle.is_blocked(
            SCOPE, lockout_key(identifier, user), limit=settings.KANGLE_LOGIN_MAX_FAILURES, window=_window()
        ):
            request.kangle_login_locked = True
        return None
