"""Capabilities around accounts: who may issue API tokens, assign roles, read the audit log."""

from __future__ import annotations

from kangle.core.roles import Role
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import in_scope


def can_manage_tokens(actor) -> bool:
    return getattr(actor, "is_authenticated", False) and (
        actor.is_superuser or actor.has_role(Role.STREET_ADMIN)
    )


def can_assign_role(actor, role: str, unit: OrgUnit) -> bool:
    """Street admins assign any role in their street; area admins assign community roles in their area."""
    if not in_scope(actor, unit.path):
        return False
    if actor.is_superuser or actor.has_role(Role.STREET_ADMIN, within=unit):
        return True
    community_roles = {
        Role.COMMUNITY_SECRETARY,
        Role.COMMUNITY_STAFF,
        Role.GRID_LEADER,
        Role.MEMBER,
        Role.RESIDENT,
    }
    return actor.has_role(Role.AREA_ADMIN, within=unit) and role in community_roles


def can_view_audit(actor) -> bool:
    return getattr(actor, "is_authenticated", False) and (
        actor.is_superuser or actor.has_role(Role.STREET_ADMIN) or actor.has_role(Role.AREA_ADMIN)
    )
