"""Who may do what in the drill register: staff see the care homes under their subtree (outside it: 404);
the desk roles of the home's unit keep the register."""

from __future__ import annotations

from kangle.core.roles import Role
from kangle.orgs.scope import in_scope

KEEPING_ROLES = (Role.STREET_ADMIN, Role.AREA_ADMIN, Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF)


def can_view(actor, path: str) -> bool:
    return in_scope(actor, path)


def can_keep(actor, path: str) -> bool:
    if not in_scope(actor, path):
        return False
    if actor.is_superuser:
        return True
    return any(role in KEEPING_ROLES and path.startswith(scope) for role, scope, _org in actor.role_rows)
