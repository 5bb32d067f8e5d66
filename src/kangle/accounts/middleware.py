"""Who is signed in, with as little work per request as possible.

Replaces Django's AuthenticationMiddleware. The session engine (``accounts.sessions``) has already read
the user and their role rows with the session row, so a signed-in page costs one query before its own work
instead of three. Requests to the API that carry a token skip all of it: the API authenticates them itself
and never reads the session. A person who logged in with a one-time code changes it before anything else.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject


def _preloaded_user(request):
    """The user the session engine loaded with the session row, if it is valid for this session."""
    session = request.session
    try:
        user_id = session[SESSION_KEY]
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return None
    user = getattr(session, "loaded_user", None)
    if (
        user is None
        or str(user.pk) != str(user_id)
        or backend_path not in settings.AUTHENTICATION_BACKENDS
        or not user.is_active
    ):
        return None
    session_hash = session.get(HASH_SESSION_KEY)
    if not session_hash or not constant_time_compare(session_hash, user.get_session_auth_hash()):
        return None  # Django's own path decides: a fallback secret, or flush the session
    return user


def session_user(request):
    return _preloaded_user(request) or auth.get_user(request)


def _bearer(request) -> bool:
    return request.META.get("HTTP_AUTHORIZATION", "").startswith("Bearer ")


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """A subclass, so the admin's and Django's checks still find an authentication middleware."""

    def process_request(self, request):
        super().process_request(request)  # request.auser, and the configuration check
        if _bearer(request) and request.path_info.startswith("/api/"):
            # The API's token authentication sets request.user; nothing here may read the session.
            request.user = AnonymousUser()
        else:
            request.user = SimpleLazyObject(lambda: session_user(request))


# Pages that stay open while a password change is pending: the change itself, leaving, and language.
_OPEN_PREFIXES = ("/accounts/password/", "/accounts/logout/", "/i18n/", "/static/")


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.must_change_password
            and not request.path.startswith(_OPEN_PREFIXES)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "code": "password_change_required",
                        "message": "请先修改一次性密码",
                        "message_en": "Change your one-time password first",
                    },
                    status=403,
                )
            return redirect(reverse("accounts:password-change"))
        return self.get_response(request)
