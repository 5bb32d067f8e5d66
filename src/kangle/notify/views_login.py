"""Pages for logging in and signing up with a texted code (phone users; staff keep their passwords)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import login
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from kangle.accounts import services as account_services
from kangle.accounts.models import User
from kangle.core.crypto import blind_index
from kangle.core.errors import UserError, message_in_language
from kangle.core.masking import mask_phone
from kangle.core.roles import STAFF_ROLES, Role
from kangle.core.timeutil import now
from kangle.notify import login_codes
from kangle.notify.forms import CodeLoginForm, SignupForm
from kangle.orgs.models import OrgKind, OrgUnit

# After a code is verified for an unknown number, the sign-up page may use that number this long.
VERIFIED_FOR = dt.timedelta(minutes=15)
BACKEND = "kangle.accounts.backends.UsernameOrPhoneBackend"


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


def code_login(request):
    """Step 1: the number (a code is texted); step 2: the code. Then log in, or sign up if the number is new."""
    form = CodeLoginForm(request.POST)
    form.is_valid()  # text fields only: the code services check the number and the code
    posted = form.cleaned_data
    values = {"phone": posted["phone"], "code": "", "next": _next(request)}
    errors: dict[str, str] = {}
    sent = False
    if request.method == "POST":
        try:
            if posted["action"] == "send":
                login_codes.code_request(phone=values["phone"], address=_client_address(request))
                values["phone"] = login_codes.checked_phone(values["phone"])
                sent = True
            else:
                sent = True
                phone = login_codes.code_verify(phone=values["phone"], code=posted["code"])
                return _after_verified(request, phone, values["next"])
        except UserError as error:
            errors[error.field or "phone"] = message_in_language(error)
    return render(request, "notify/code_login.html", {"values": values, "errors": errors, "sent": sent})


def _after_verified(request, phone: str, next_url: str):
    user = User.objects.filter(phone_hash=blind_index(phone), is_active=True).first()
    if user is None:
        request.session["verified_phone"] = phone
        request.session["verified_until"] = (now() + VERIFIED_FOR).isoformat()
        return redirect("notify:signup")
    if user.is_superuser or user.roles & (STAFF_ROLES - {Role.GRID_LEADER}):
        # Staff keep their passwords: a texted code alone never opens the workbench. Grid leaders are
        # phone users (their pages are the phone's), so a code is enough for them.
        return redirect(reverse("accounts:login") + "?staff=1")
    login(request, user, backend=BACKEND)
    return HttpResponseRedirect(next_url or reverse("home"))


def _verified_phone(request) -> str:
    phone = request.session.get("verified_phone", "")
    until = request.session.get("verified_until", "")
    if not phone or not until or dt.datetime.fromisoformat(until) < now():
        return ""
    return phone


def resident_signup(request):
    """A resident whose number was just verified names themselves and their community, and can report."""
    if request.user.is_authenticated:  # a second tap on the button after the account was made
        return redirect("cases:resident-report")
    phone = _verified_phone(request)
    if not phone:
        return redirect("notify:code-login")
    communities = list(
        OrgUnit.objects.filter(kind=OrgKind.COMMUNITY, is_active=True)
        .select_related("parent")
        .order_by("path")[:500]
    )
    form = SignupForm(request.POST)
    form.is_valid()  # text fields only: the sign-up service checks the name, the community is looked up
    values = form.cleaned_data
    errors: dict[str, str] = {}
    if request.method == "POST":
        community = next((c for c in communities if c.code == values["community"]), None)
        try:
            if community is None:
                raise UserError("invalid_community", _("Choose your community"), field="community")
            user = account_services.resident_sign_up(
                phone=phone, display_name=values["display_name"], community=community
            )
        except UserError as error:
            errors[error.field or "display_name"] = message_in_language(error)
        else:
            request.session.pop("verified_phone", None)
            request.session.pop("verified_until", None)
            login(request, user, backend=BACKEND)
            return redirect("cases:resident-report")
    context = {"values": values, "errors": errors, "communities": communities, "masked": mask_phone(phone)}
    return render(request, "notify/resident_signup.html", context)
