"""/api/v1/accounts/…: who am I, and API tokens (street admins)."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from ninja.pagination import paginate

from kangle.accounts import services
from kangle.accounts.models import ApiToken, User
from kangle.accounts.permissions import can_manage_tokens
from kangle.core.errors import UserError
from kangle.core.pagination import Listing, Pagination

router = Router(tags=["accounts"])


class RoleOut(Schema):
    role: str
    org_code: str


class MeOut(Schema):
    username: str
    display_name: str
    phone: str
    is_superuser: bool
    roles: list[RoleOut]


class TokenOut(Schema):
    prefix: str
    name: str
    username: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenIssueIn(Schema):
    name: str
    username: str


class TokenIssuedOut(TokenOut):
    token: str


def _token_out(row: ApiToken) -> dict:
    return {
        "prefix": row.prefix,
        "name": row.name,
        "username": row.user.username,
        "created_at": row.created_at,
        "last_used_at": row.last_used_at,
        "revoked_at": row.revoked_at,
    }


@router.get("/me", response=MeOut)
def me(request):
    user = request.user
    codes = dict(user.role_assignments.filter(is_active=True).values_list("org_id", "org__code"))
    return {
        "username": user.username,
        "display_name": user.display_name,
        "phone": user.masked_phone,
        "is_superuser": user.is_superuser,
        "roles": [{"role": role, "org_code": codes[org_id]} for role, _path, org_id in user.role_rows],
    }


@router.get("/tokens", response=list[TokenOut])
@paginate(Pagination, page_size=50)
def list_tokens(request):
    if not can_manage_tokens(request.user):
        raise Http404
    rows = ApiToken.objects.select_related("user")
    if not request.user.is_superuser:
        rows = rows.filter(created_by=request.user)
    return Listing(rows.order_by("-created_at", "-id"), row=_token_out, seek=("-created_at", "-id"))


@router.post("/tokens", response={201: TokenIssuedOut})
def issue_token(request, payload: TokenIssueIn):
    if not can_manage_tokens(request.user):
        raise Http404
    target = User.objects.filter(username=payload.username.strip()).first()
    if target is None:
        raise UserError("unknown_user", _("No user with this username"), field="username", status=404)
    row, token = services.token_issue(actor=request.user, user=target, name=payload.name)
    return 201, {**_token_out(row), "token": token}


@router.post("/tokens/{prefix}/revoke", response=TokenOut)
def revoke_token(request, prefix: str):
    if not can_manage_tokens(request.user):
        raise Http404
    rows = ApiToken.objects.select_related("user")
    if not request.user.is_superuser:
        rows = rows.filter(created_by=request.user)
    return _token_out(services.token_revoke(actor=request.user, token=get_object_or_404(rows, prefix=prefix)))
