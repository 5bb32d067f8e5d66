"""Who may do what with activities, whistle calls and service records. Pages and the API call these.

Scope first (an object outside the actor's subtree is a 404, through ``orgs.scope``); these predicates then
answer "may this role do this here" (a wrong role inside the scope is a 403).
"""

from __future__ import annotations

from kangle.core.roles import STAFF_ROLES, Role
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.scope import in_scope

# Roles that publish activities, check people in, record beneficiaries, verify service records, close calls.
MANAGING_ROLES = (Role.STREET_ADMIN, Role.AREA_ADMIN, Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF)


def _holds(actor, roles, unit: OrgUnit) -> bool:
    if not getattr(actor, "is_authenticated", False):
        return False
    if actor.is_superuser:
        return True
    return any(actor.has_role(role, within=unit) for role in roles)


def is_staff(actor) -> bool:
    return getattr(actor, "is_authenticated", False) and (
        actor.is_superuser or bool(actor.roles & STAFF_ROLES)
    )


def can_manage_activity(actor, org: OrgUnit) -> bool:
    return in_scope(actor, org.path) and _holds(actor, MANAGING_ROLES, org)


def can_blow_whistle(actor, org: OrgUnit) -> bool:
    """Secretaries (and other managers) for their subtree; a grid leader for their own grid."""
    if not in_scope(actor, org.path):
        return False
    if _holds(actor, MANAGING_ROLES, org):
        return True
    return org.kind in (OrgKind.GRID, OrgKind.MICROGRID) and _holds(actor, (Role.GRID_LEADER,), org)


def can_report_for_group(actor, member_org: OrgUnit) -> bool:
    """A grid leader (or a manager) answering a call or entering service for members under their node."""
    return in_scope(actor, member_org.path) and _holds(actor, (*MANAGING_ROLES, Role.GRID_LEADER), member_org)


def can_verify(actor, org: OrgUnit) -> bool:
    """The community verifies service: managers of the record's node.

    Grid leaders enter records; they do not verify them."""
    return in_scope(actor, org.path) and _holds(actor, MANAGING_ROLES, org)


def is_party_org_account(actor) -> bool:
    return getattr(actor, "is_authenticated", False) and actor.has_role(Role.EMPLOYER_PARTY_ORG)
