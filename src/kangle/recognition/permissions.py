"""Who may do what in recognition. Scope first (outside the subtree is a 404), then the role (403)."""

from __future__ import annotations

from kangle.core.roles import STAFF_ROLES, Role
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import in_scope

DRAFTING_ROLES = (Role.STREET_ADMIN, Role.AREA_ADMIN, Role.COMMUNITY_SECRETARY)
NOMINATING_ROLES = (Role.STREET_ADMIN, Role.AREA_ADMIN, Role.COMMUNITY_SECRETARY)
STORY_ROLES = (Role.STREET_ADMIN, Role.AREA_ADMIN, Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF)


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


def can_draft_letter(actor, community: OrgUnit) -> bool:
    return in_scope(actor, community.path) and _holds(actor, DRAFTING_ROLES, community)


def can_issue_letter(actor, street: OrgUnit) -> bool:
    """Letters go out in the street Party working committee's name: street admins issue and send them."""
    return in_scope(actor, street.path) and _holds(actor, (Role.STREET_ADMIN,), street)


def can_nominate(actor, unit: OrgUnit) -> bool:
    return in_scope(actor, unit.path) and _holds(actor, NOMINATING_ROLES, unit)


def can_review_as_area(actor, unit: OrgUnit) -> bool:
    return in_scope(actor, unit.path) and _holds(actor, (Role.AREA_ADMIN, Role.STREET_ADMIN), unit)


def can_review_as_street(actor, unit: OrgUnit) -> bool:
    return in_scope(actor, unit.path) and _holds(actor, (Role.STREET_ADMIN,), unit)


def can_publish_story(actor, unit: OrgUnit) -> bool:
    return in_scope(actor, unit.path) and _holds(actor, STORY_ROLES, unit)


def is_party_org_account(actor, party_org) -> bool:
    return (
        getattr(actor, "is_authenticated", False)
        and actor.has_role(Role.EMPLOYER_PARTY_ORG)
        and party_org.account_id == actor.pk
    )
