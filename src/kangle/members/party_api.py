"""/api/v1/party-orgs/…: employer Party organisation accounts (street admins)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from ninja.pagination import paginate

from kangle.accounts.models import User
from kangle.core.errors import UserError
from kangle.core.pagination import Listing, Pagination
from kangle.members import party_accounts
from kangle.members.models import EmployerPartyOrg
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import get_in_scope_or_404

router = Router(tags=["party-orgs"])


class PartyOrgOut(Schema):
    id: int
    name: str
    employer: str
    account: str | None


class PartyAccountIn(Schema):
    party_orgs: list[int]
    org_code: str
    username: str
    display_name: str
    phone: str = ""


class LinkIn(Schema):
    party_orgs: list[int]
    username: str


class PartyIssuedOut(Schema):
    username: str
    one_time_code: str


def _require(request) -> None:
    if not party_accounts.can_manage_party_accounts(request.user):
        raise Http404


def _party_orgs(ids: list[int]) -> list[EmployerPartyOrg]:
    rows = list(EmployerPartyOrg.objects.filter(pk__in=ids))
    if len(rows) != len(set(ids)):
        raise UserError("unknown_party_org", _("Unknown Party organisation id"), field="party_orgs")
    return rows


@router.get("/", response=list[PartyOrgOut])
@paginate(Pagination, page_size=100)
def list_party_orgs(request):
    _require(request)
    rows = EmployerPartyOrg.objects.select_related("employer", "account").order_by("name", "id")
    return Listing(rows, row=_party_org_out, seek=("name", "id"))


def _party_org_out(p: EmployerPartyOrg) -> dict:
    return {
        "id": p.pk,
        "name": p.name,
        "employer": p.employer.name,
        "account": p.account.username if p.account else None,
    }


@router.post("/accounts", response={201: PartyIssuedOut})
def create_account(request, payload: PartyAccountIn):
    _require(request)
    try:
        org = get_in_scope_or_404(
            request.user, OrgUnit.objects.all(), path_field="path", code=payload.org_code
        )
    except Http404:
        raise UserError(
            "unknown_unit", _("No such unit in your scope"), field="org_code", status=404
        ) from None
    issued = party_accounts.party_org_account_create(
        actor=request.user,
        party_orgs=_party_orgs(payload.party_orgs),
        org=org,
        username=payload.username,
        display_name=payload.display_name,
        phone=payload.phone,
    )
    return 201, {"username": issued.user.username, "one_time_code": issued.code}


@router.post("/link", response=list[PartyOrgOut])
def link_account(request, payload: LinkIn):
    _require(request)
    user = User.objects.filter(username=payload.username.strip()).first()
    if user is None:
        raise UserError("unknown_user", _("No user with this username"), field="username")
    rows = party_accounts.party_org_account_link(
        actor=request.user, party_orgs=_party_orgs(payload.party_orgs), user=user
    )
    return [{"id": p.pk, "name": p.name, "employer": p.employer.name, "account": user.username} for p in rows]
