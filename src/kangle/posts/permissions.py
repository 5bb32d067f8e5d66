"""Who may do what with the catalogue, posts and claims. Pages and the API call the same predicates.

Scope first (a post outside the actor's subtree is a 404, through ``orgs.scope``); these predicates answer
"may this role do this here" (a wrong role inside the scope is a 403). Members reach a post when they live
under its owning unit (their community's posts, and area- or street-wide posts above it).
"""

from __future__ import annotations

from kangle.core.roles import STAFF_ROLES, Role
from kangle.orgs.models import OrgUnit
from kangle.orgs.permissions import covers_every_street
from kangle.orgs.scope import in_scope

# Roles that create, publish and close posts, confirm and remove claims, invite and assign in bulk.
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


def can_view_posts(actor) -> bool:
    """Staff of any kind see the posts of their subtree (grid leaders read only)."""
    return is_staff(actor)


def can_manage_post(actor, org: OrgUnit) -> bool:
    return in_scope(actor, org.path) and _holds(actor, MANAGING_ROLES, org)


def can_manage_catalogue(actor) -> bool:
    """The service catalogue is shared by every street of the deployment (orgs.permissions)."""
    return covers_every_street(actor)


def member_reaches(member, post) -> bool:
    """A member reaches posts owned by their community or by a unit above it (area, street)."""
    return member.community.path.startswith(post.org.path)
