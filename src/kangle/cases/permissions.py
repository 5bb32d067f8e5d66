"""Who may do what with cases. Pages and the API call the same predicates.

Staff see cases under their org subtree (an outsider gets 404). The desk — street admin, area admin,
community secretary or staff — handles cases; grid leaders may report (grid patrol). A contractor's staff
see only cases dispatched to their contractor; a resident sees only the cases they reported.
"""

from __future__ import annotations

from kangle.core.roles import Role
from kangle.orgs.scope import in_scope

DESK_ROLES = (Role.STREET_ADMIN, Role.AREA_ADMIN, Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF)
SUPERVISOR_ROLES = (Role.STREET_ADMIN, Role.AREA_ADMIN)


def _authenticated(actor) -> bool:
    return bool(getattr(actor, "is_authenticated", False))


def can_view_case_as_staff(actor, case) -> bool:
    return in_scope(actor, case.org.path)


def is_desk_for(actor, org) -> bool:
    if not _authenticated(actor):
        return False
    return actor.is_superuser or any(actor.has_role(role, within=org) for role in DESK_ROLES)


def can_handle_case(actor, case) -> bool:
    return is_desk_for(actor, case.org)


def can_intake(actor, org) -> bool:
    """Staff in scope log cases (grid leaders as grid patrol)."""
    return _authenticated(actor) and in_scope(actor, org.path)


def can_decide_extension(actor, case) -> bool:
    if not _authenticated(actor):
        return False
    return actor.is_superuser or any(actor.has_role(role, within=case.org) for role in SUPERVISOR_ROLES)


def contractor_ids(actor) -> list[int]:
    if not _authenticated(actor) or not actor.has_role(Role.CONTRACTOR):
        return []
    cached = getattr(actor, "_kangle_contractor_ids", None)
    if cached is None:
        cached = list(actor.contractors.filter(is_active=True).values_list("pk", flat=True))
        actor._kangle_contractor_ids = cached
    return cached


def is_contractor_for(actor, case) -> bool:
    return case.contractor_id is not None and case.contractor_id in contractor_ids(actor)


def is_reporter(actor, case) -> bool:
    return _authenticated(actor) and case.reporter_id is not None and case.reporter_id == actor.pk


def can_view_case(actor, case) -> bool:
    return can_view_case_as_staff(actor, case) or is_contractor_for(actor, case) or is_reporter(actor, case)


def can_report_online(actor) -> bool:
    return _authenticated(actor) and actor.has_role(Role.RESIDENT)


def can_view_figures(actor) -> bool:
    return _authenticated(actor) and (actor.is_superuser or bool(actor.scope_paths))
