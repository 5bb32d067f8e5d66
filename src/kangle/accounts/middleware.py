"""A person who logged in with an administrator's one-time code chooses their own password before anything else."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

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
