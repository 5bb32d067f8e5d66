"""Workbench pages for people and roles. Each page parses input, calls one service, renders."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kangle.accounts.models import User
from kangle.core.errors import UserError, form_error
from kangle.core.roles import Role
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.scope import get_in_scope_or_404
from kangle.people import selectors, services
from kangle.people.forms import DisableForm, GridLeaderForm, RoleGrantForm, StaffAccountForm, WithdrawForm
from kangle.people.permissions import (
    access_assignment,
    access_unit,
    access_user,
    can_manage_people,
    can_manage_user,
    find_person_in_scope,
)

PAGE_SIZE = 50


def _require_manager(request) -> None:
    if not can_manage_people(request.user):
        raise Http404


def _unit_in_scope(request, code: str) -> OrgUnit:
    return get_in_scope_or_404(
        request.user, OrgUnit.objects.all(), path_field="path", code=(code or "").strip()
    )


@login_required
def people_list(request):
    """Who holds which role where: a searchable list over the reader's subtree."""
    _require_manager(request)
    query = request.GET.get("q", "")
    role = request.GET.get("role", "")
    if role not in Role.values:
        role = ""
    rows = selectors.role_holders(request.user, query=query, role=role)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "people/list.html",
        {
            "page": page,
            "query": query,
            "role": role,
            "roles": Role.choices,
            "is_street_admin": request.user.is_superuser or request.user.has_role(Role.STREET_ADMIN),
        },
    )


@login_required
def account_new(request):
    _require_manager(request)
    form = StaffAccountForm(request.POST or None, initial={"org": request.GET.get("org", "")})
    issued = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            org = _unit_in_scope(request, data["org"])
        except Http404:
            form.add_error("org", _("No unit with this code in your area."))
        else:
            try:
                issued = services.staff_account_create(
                    actor=request.user,
                    username=data["username"],
                    display_name=data["display_name"],
                    phone=data["phone"],
                    role=data["role"],
                    org=org,
                )
            except UserError as exc:
                form_error(form, exc)
    status = 400 if form.errors else 200
    return render(request, "people/account_new.html", {"form": form, "issued": issued}, status=status)


def _user_page(request, person: User, *, grant_form=None, disable_form=None, code=None, status=200):
    rows = selectors.role_holders(request.user, active_only=False).filter(user=person)
    context = {
        "person": person,
        "assignments": rows,
        "can_manage": can_manage_user(request.user, person),
        "grant_form": grant_form or RoleGrantForm(),
        "disable_form": disable_form or DisableForm(),
        "code": code,
    }
    return render(request, "people/user_detail.html", context, status=status)


@login_required
def user_detail(request, user_id):
    return _user_page(request, access_user(request.user, user_id))


@login_required
@require_POST
def user_grant(request, user_id):
    person = access_user(request.user, user_id)
    form = RoleGrantForm(request.POST)
    if form.is_valid():
        try:
            org = _unit_in_scope(request, form.cleaned_data["org"])
        except Http404:
            form.add_error("org", _("No unit with this code in your area."))
        else:
            try:
                services.role_grant(actor=request.user, user=person, role=form.cleaned_data["role"], org=org)
            except UserError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _("Role granted."))
                return redirect("people:user", user_id=person.pk)
    return _user_page(request, person, grant_form=form, status=400)


@login_required
@require_POST
def assignment_revoke(request, assignment_id):
    assignment = access_assignment(request.user, assignment_id)
    try:
        services.role_withdraw(actor=request.user, assignment=assignment)
    except UserError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Role revoked."))
    back = WithdrawForm(request.POST)
    if back.is_valid() and back.cleaned_data["back"] == "unit":
        return redirect("people:unit", code=assignment.org.code)
    return redirect("people:user", user_id=assignment.user_id)


@login_required
@require_POST
def user_disable(request, user_id):
    person = access_user(request.user, user_id)
    form = DisableForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.account_disable(actor=request.user, user=person, reason=reason)
    except UserError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Account disabled."))
    return redirect("people:user", user_id=person.pk)


@login_required
@require_POST
def user_enable(request, user_id):
    person = access_user(request.user, user_id)
    try:
        services.account_enable(actor=request.user, user=person)
    except UserError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Account enabled."))
    return redirect("people:user", user_id=person.pk)


@login_required
@require_POST
def user_reset_password(request, user_id):
    person = access_user(request.user, user_id)
    try:
        code = services.password_reset(actor=request.user, user=person)
    except UserError as exc:
        messages.error(request, str(exc))
        return redirect("people:user", user_id=person.pk)
    # The code is shown on this response only; it is never stored in clear.
    return _user_page(request, User.objects.get(pk=person.pk), code=code)


def _unit_page(request, unit: OrgUnit, *, grid_form=None, issued=None, status=200):
    context = {
        "issued": issued,
        "unit": unit,
        "holders": selectors.holders_at(unit),
        "is_grid": unit.kind == OrgKind.GRID,
        "grid_form": grid_form or GridLeaderForm(),
    }
    return render(request, "people/unit.html", context, status=status)


@login_required
def unit_people(request, code):
    return _unit_page(request, access_unit(request.user, code))


@login_required
@require_POST
def grid_leader_appoint(request, code):
    unit = access_unit(request.user, code)
    if unit.kind != OrgKind.GRID:
        raise Http404
    form = GridLeaderForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["existing"]:
                person = find_person_in_scope(request.user, data["existing"])
                if person is None:
                    form.add_error("existing", _("No account with this username or number in your area."))
                    return _unit_page(request, unit, grid_form=form, status=400)
                services.grid_leader_appoint(actor=request.user, grid=unit, user=person)
                messages.success(request, _("Grid leader appointed."))
            else:
                issued = services.grid_leader_create(
                    actor=request.user,
                    grid=unit,
                    username=data["username"],
                    display_name=data["display_name"],
                    phone=data["phone"],
                )
                # The one-time code is shown on this response only, never kept in a cookie or the session.
                return _unit_page(request, unit, issued=issued)
        except UserError as exc:
            form_error(form, exc)
        else:
            return redirect("people:unit", code=unit.code)
    return _unit_page(request, unit, grid_form=form, status=400)
