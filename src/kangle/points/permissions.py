"""Who may do what with points, benefits and bookings. Pages and the API call the same predicates.

Scope first (an object outside the actor's subtree is a 404 through ``kangle.orgs.scope``); these then
answer "may this role do this here" (a wrong role inside the scope is a 403).
"""

from __future__ import annotations

from kangle.core.roles import STAFF_ROLES, Role
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import in_scope

# Roles that set up benefits and slots, and serve priority passes at a counter.
BENEFIT_ROLES = (Role.STREET_ADMIN, Role.AREA_ADMIN, Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF)
# Roles that verify service and so may award points (activities call the award service as them).
AWARDING_ROLES = (
    Role.STREET_ADMIN,
    Role.AREA_ADMIN,
    Role.COMMUNITY_SECRETARY,
    Role.COMMUNITY_STAFF,
    Role.GRID_LEADER,
)


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


def can_edit_rules(actor, street: OrgUnit) -> bool:
    """Points rules are the street's: street admins only."""
    return in_scope(actor, street.path) and _holds(actor, (Role.STREET_ADMIN,), street)


def can_adjust(actor, community: OrgUnit) -> bool:
    """Manual adjustments: street admins only (within their street)."""
    return in_scope(actor, community.path) and _holds(actor, (Role.STREET_ADMIN,), community)


def can_award(actor, unit: OrgUnit) -> bool:
    """``unit`` is the member's own unit, so a grid leader may award in their grid."""
    return in_scope(actor, unit.path) and _holds(actor, AWARDING_ROLES, unit)


def can_manage_benefits(actor, unit: OrgUnit) -> bool:
    return in_scope(actor, unit.path) and _holds(actor, BENEFIT_ROLES, unit)


def owns(actor, member) -> bool:
    return (
        getattr(actor, "is_authenticated", False)
        and member.user_id is not None
        and member.user_id == actor.pk
    )
