"""/api/v1/people/…: the people and roles pages' API (street and area admins, inside their subtree)."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from ninja.pagination import paginate

from kangle.accounts.models import RoleAssignment, User
from kangle.core.errors import UserError
from kangle.core.pagination import Listing, Pagination
from kangle.core.roles import Role
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import get_in_scope_or_404
from kangle.people import selectors, services
from kangle.people.permissions import (
    access_assignment,
    access_unit,
    access_user,
    can_manage_people,
    find_person_in_scope,
)

router = Router(tags=["people"])


class AssignmentOut(Schema):
    id: int
    user_id: int
    username: str
    display_name: str
    phone: str
    role: str
    org_code: str
    org_name: str
    is_active: bool
    granted_at: dt.datetime


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    phone: str
    is_active: bool
    must_change_password: bool
    roles: list[AssignmentOut]


class AccountIn(Schema):
    username: str
    display_name: str
    phone: str = ""
    role: str
    org_code: str


class IssuedOut(Schema):
    user: UserOut
    one_time_code: str


class GrantIn(Schema):
    role: str
    org_code: str


class DisableIn(Schema):
    reason: str = ""


class CodeOut(Schema):
    one_time_code: str


class GridLeaderIn(Schema):
    """Either ``existing`` (username or mobile of someone in scope) or a new account's fields."""

    existing: str = ""
    username: str = ""
    display_name: str = ""
    phone: str = ""


def _assignment_out(row: RoleAssignment) -> dict:
    return {
        "id": row.pk,
        "user_id": row.user_id,
        "username": row.user.username,
        "display_name": row.user.display_name,
        "phone": row.user.masked_phone,
        "role": row.role,
        "org_code": row.org.code,
        "org_name": row.org.name,
        "is_active": row.is_active,
        "granted_at": row.granted_at,
    }


def _user_out(actor, user: User) -> dict:
    rows = selectors.role_holders(actor, active_only=False).filter(user=user)
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "phone": user.masked_phone,
        "is_active": user.is_active,
        "must_change_password": user.must_change_password,
        "roles": [_assignment_out(row) for row in rows],
    }


def _unit(actor, code: str) -> OrgUnit:
    try:
        return get_in_scope_or_404(actor, OrgUnit.objects.all(), path_field="path", code=code.strip())
    except Http404:
        raise UserError(
            "unknown_unit", _("No such unit in your scope"), field="org_code", status=404
        ) from None


@router.get("/assignments", response=list[AssignmentOut])
@paginate(Pagination, page_size=50)
def list_assignments(request, q: str = "", role: str = "", org_code: str = ""):
    if not can_manage_people(request.user):
        raise Http404
    unit = access_unit(request.user, org_code) if org_code else None
    rows = selectors.role_holders(request.user, query=q, role=role if role in Role.values else "", unit=unit)
    return Listing(rows, row=_assignment_out)


@router.post("/accounts", response={201: IssuedOut})
def create_account(request, payload: AccountIn):
    if not can_manage_people(request.user):
        raise Http404
    issued = services.staff_account_create(
        actor=request.user,
        username=payload.username,
        display_name=payload.display_name,
        phone=payload.phone,
        role=payload.role,
        org=_unit(request.user, payload.org_code),
    )
    return 201, {"user": _user_out(request.user, issued.user), "one_time_code": issued.code}


@router.get("/users/{user_id}", response=UserOut)
def get_user(request, user_id: int):
    return _user_out(request.user, access_user(request.user, user_id))


@router.post("/users/{user_id}/roles", response={201: AssignmentOut})
def grant_role(request, user_id: int, payload: GrantIn):
    person = access_user(request.user, user_id)
    row = services.role_grant(
        actor=request.user, user=person, role=payload.role, org=_unit(request.user, payload.org_code)
    )
    return 201, _assignment_out(RoleAssignment.objects.select_related("user", "org").get(pk=row.pk))


@router.post("/roles/{assignment_id}/revoke", response=AssignmentOut)
def revoke_role(request, assignment_id: int):
    row = services.role_withdraw(
        actor=request.user, assignment=access_assignment(request.user, assignment_id)
    )
    return _assignment_out(row)


@router.post("/users/{user_id}/disable", response=UserOut)
def disable_user(request, user_id: int, payload: DisableIn):
    person = services.account_disable(
        actor=request.user, user=access_user(request.user, user_id), reason=payload.reason
    )
    return _user_out(request.user, person)


@router.post("/users/{user_id}/enable", response=UserOut)
def enable_user(request, user_id: int):
    person = services.account_enable(actor=request.user, user=access_user(request.user, user_id))
    return _user_out(request.user, person)


@router.post("/users/{user_id}/reset-password", response=CodeOut)
def reset_password(request, user_id: int):
    code = services.password_reset(actor=request.user, user=access_user(request.user, user_id))
    return {"one_time_code": code}


@router.post("/units/{code}/grid-leader", response={201: IssuedOut, 200: AssignmentOut})
def appoint_grid_leader(request, code: str, payload: GridLeaderIn):
    grid = access_unit(request.user, code)
    if payload.existing:
        person = find_person_in_scope(request.user, payload.existing)
        if person is None:
            raise UserError(
                "unknown_user",
                _("No account with this username or number in your scope"),
                field="existing",
                status=404,
            )
        row = services.grid_leader_appoint(actor=request.user, grid=grid, user=person)
        return 200, _assignment_out(RoleAssignment.objects.select_related("user", "org").get(pk=row.pk))
    issued = services.grid_leader_create(
        actor=request.user,
        grid=grid,
        username=payload.username,
        display_name=payload.display_name,
        phone=payload.phone,
    )
    return 201, {"user": _user_out(request.user, issued.user), "one_time_code": issued.code}
