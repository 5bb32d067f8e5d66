"""Who may do what with the organisation tree, venues and registration points.

Predicates take the actor and the object; pages and the API call the same ones.
"""

from __future__ import annotations

from kangle.core.roles import Role
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import in_scope


def can_view_unit(actor, unit: OrgUnit) -> bool:
    return in_scope(actor, unit.path)


def can_manage_tree(actor, unit: OrgUnit) -> bool:
    """Creating, renaming, moving units and editing venues and registration points: the street admin."""
    if not in_scope(actor, unit.path):
        return False
    return actor.is_superuser or actor.has_role(Role.STREET_ADMIN, within=unit)
