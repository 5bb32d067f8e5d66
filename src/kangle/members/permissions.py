"""Who may do what with member files. Pages and the API call the same predicates.

Scope first (an object outside the actor's subtree is a 404, handled by ``scope``); these predicates then
answer "may this role do this here" (a wrong role inside the scope is a 403).
"""

from __future__ import annotations

from kangle.core.roles import STAFF_ROLES, Role
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import in_scope

# Roles that approve, return, transfer, mark as left, enter files at a desk and import lists.
MANAGING_ROLES = (Role.STREET_ADMIN, Role.AREA_ADMIN, Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF)
# Roles that may see personal data unmasked and export it unmasked.
REVEALING_ROLES = (Role.STREET_ADMIN, Role.AREA_ADMIN, Role.COMMUNITY_SECRETARY)


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


def can_view_members(actor) -> bool:
    """Staff of any kind see the (masked) list of their subtree."""
    return is_staff(actor)


def can_manage_member(actor, community: OrgUnit) -> bool:
    return in_scope(actor, community.path) and _holds(actor, MANAGING_ROLES, community)


def can_register_at(actor, unit: OrgUnit) -> bool:
    """Staff-assisted entry and imports into ``unit`` (a community, or an area / street for a mixed list)."""
    return in_scope(actor, unit.path) and _holds(actor, MANAGING_ROLES, unit)


def can_reveal(actor, community: OrgUnit) -> bool:
    return in_scope(actor, community.path) and _holds(actor, REVEALING_ROLES, community)


def can_export(actor, unit: OrgUnit) -> bool:
    """Exporting a list (masked unless the actor may also reveal)."""
    return in_scope(actor, unit.path) and _holds(actor, MANAGING_ROLES, unit)


def can_set_expected(actor, unit: OrgUnit) -> bool:
    return in_scope(actor, unit.path) and _holds(actor, MANAGING_ROLES, unit)


def is_collective_registrar(actor) -> bool:
    return getattr(actor, "is_authenticated", False) and actor.has_role(Role.EMPLOYER_PARTY_ORG)


def owns(actor, member) -> bool:
    return (
        getattr(actor, "is_authenticated", False)
        and member.user_id is not None
        and member.user_id == actor.pk
    )
