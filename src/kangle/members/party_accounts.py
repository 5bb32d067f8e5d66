"""Accounts of employer Party organisations (单位党组织), created by street admins through the people services.

One account may serve several branches (a company's Party committee acting for its branches): it is linked
to each and names the branch it acts for on each request (the activities pages' choice); nothing guesses.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kangle.accounts.models import User
from kangle.core import audit
from kangle.core.errors import UserError
from kangle.core.roles import Role
from kangle.core.timeutil import resolve_now
from kangle.members.models import EmployerPartyOrg
from kangle.notify.services import notify_user
from kangle.orgs.models import OrgUnit
from kangle.people.services import IssuedAccount, account_create


def can_manage_party_accounts(actor) -> bool:
    return getattr(actor, "is_authenticated", False) and (
        actor.is_superuser or actor.has_role(Role.STREET_ADMIN)
    )


def _checked(actor, party_orgs: list[EmployerPartyOrg]) -> list[EmployerPartyOrg]:
    # ``actor`` None is the system (the demo data).
    if actor is not None and not can_manage_party_accounts(actor):
        raise UserError("not_found", _("Not found, or outside your scope"), status=404)
    if not party_orgs:
        raise UserError("no_party_org", _("Pick at least one Party organisation"), field="party_orgs")
    return party_orgs


@transaction.atomic
def party_org_account_create(
    *,
    actor,
    party_orgs: list[EmployerPartyOrg],
    org: OrgUnit,
    username: str,
    display_name: str,
    phone: str = "",
    now: dt.datetime | None = None,
) -> IssuedAccount:
    """A login acting for ``party_orgs`` (the employer_party_org role at ``org``, usually the street)."""
    moment = resolve_now(now)
    party_orgs = _checked(actor, party_orgs)
    issued = account_create(
        actor=actor,
        username=username,
        display_name=display_name,
        phone=phone,
        role=Role.EMPLOYER_PARTY_ORG,
        org=org,
        now=moment,
    )
    _link(actor, party_orgs, issued.user, moment)
    return issued


@transaction.atomic
def party_org_account_link(
    *, actor, party_orgs: list[EmployerPartyOrg], user: User, now: dt.datetime | None = None
) -> list[EmployerPartyOrg]:
    """Let an existing employer account act for more branches (it must already hold the role)."""
    moment = resolve_now(now)
    party_orgs = _checked(actor, party_orgs)
    if not user.has_role(Role.EMPLOYER_PARTY_ORG):
        raise UserError(
            "not_employer_account",
            _("This account is not an employer Party organisation's account"),
            field="username",
        )
    _link(actor, party_orgs, user, moment)
    notify_user(
        recipient=user,
        title=_("Your account can now act for more employer Party organisations"),
        body="%(names)s",
        params={"names": "、".join(p.name for p in party_orgs)},
        now=moment,
    )
    return party_orgs


def _link(actor, party_orgs: list[EmployerPartyOrg], user: User, moment) -> None:
    for party_org in EmployerPartyOrg.objects.select_for_update().filter(pk__in=[p.pk for p in party_orgs]):
        previous = party_org.account_id
        EmployerPartyOrg.objects.filter(pk=party_org.pk).update(account=user)
        audit.record(
            actor=actor,
            verb="party_org.account_link",
            obj=party_org,
            details={"account": user.username, "previous_account_id": previous},
            now=moment,
        )
