"""Who may do what with the organisation tree, venues and registration points.

Predicates take the actor and the object; pages and the API call the same ones.
"""

from __future__ import annotations

from kangle.core.roles import Role
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.scope import in_scope
from kangle.orgs.selectors import paths_q


def can_view_unit(actor, unit: OrgUnit) -> bool:
    return in_scope(actor, unit.path)


def can_manage_tree(actor, unit: OrgUnit) -> bool:
    """Creating, renaming, moving units and editing venues and registration points: the street admin."""
    if not in_scope(actor, unit.path):
        return False
    return actor.is_superuser or actor.has_role(Role.STREET_ADMIN, within=unit)


def covers_every_street(actor) -> bool:
    """Reference data every street of a deployment shares (the service catalogue, case categories, SLA
    policies, the holiday calendar) is edited only by someone whose scope covers all streets: the superuser,
    or a street admin when the deployment has one street (or whose role sits above every street). A street
    admin among several cannot change what the others use."""
    if not getattr(actor, "is_authenticated", False):
        return False
    if actor.is_superuser:
        return True
    if not actor.has_role(Role.STREET_ADMIN):
        return False
    paths = [path for role, path, _ in actor.role_rows if role == Role.STREET_ADMIN]
    return not OrgUnit.objects.filter(kind=OrgKind.STREET).exclude(paths_q(paths)).exists()
