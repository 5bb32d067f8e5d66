"""Who may do what in prevention. Pages and the API call the same predicates.

Staff see points, rounds, warnings and campaigns under their org subtree (an outsider gets 404). Inspectors
are staff in scope and contractor staff whose contractor role covers the place: they record readings and
campaign findings. Managing points, rounds and campaigns, and opening cases from warnings, is the desk's
(street admin, area admin, community secretary or staff).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from kangle.core.roles import Role
from kangle.orgs.scope import in_scope, scope_queryset
from kangle.orgs.selectors import overlapping_q, paths_q

DESK_ROLES = (Role.STREET_ADMIN, Role.AREA_ADMIN, Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF)


def _authenticated(actor) -> bool:
    return bool(getattr(actor, "is_authenticated", False))


def contractor_paths(actor) -> list[str]:
    if not _authenticated(actor):
        return []
    return [path for role, path, _ in actor.role_rows if role == Role.CONTRACTOR]


def inspector_paths(actor) -> list[str]:
    """Where the actor may inspect: their staff scope and the places their contractor role covers."""
    if not _authenticated(actor):
        return []
    return list(actor.scope_paths) + contractor_paths(actor)


def inspector_queryset(actor, queryset: QuerySet, path_field: str = "org__path") -> QuerySet:
    if not _authenticated(actor):
        return queryset.none()
    if actor.is_superuser:
        return queryset
    paths = inspector_paths(actor)
    if not paths:
        return queryset.none()
    return queryset.filter(paths_q(paths, path_field))


def overlapping_queryset(
    actor, queryset: QuerySet, path_field: str = "org__path", *, staff_only=False
) -> QuerySet:
    """Rows whose node lies inside the actor's area or above it (a street's round or campaign is visible
    to a community's staff, who inspect their own part of it)."""
    if not _authenticated(actor):
        return queryset.none()
    if actor.is_superuser:
        return queryset
    paths = list(actor.scope_paths) if staff_only else inspector_paths(actor)
    if not paths:
        return queryset.none()
    return queryset.filter(overlapping_q(paths, path_field))


def overlaps(actor, org, *, staff_only=False) -> bool:
    if not _authenticated(actor):
        return False
    if actor.is_superuser:
        return True
    paths = list(actor.scope_paths) if staff_only else inspector_paths(actor)
    return any(org.path.startswith(path) or path.startswith(org.path) for path in paths)


def require_overlap(actor, org) -> None:
    if not overlaps(actor, org):
        raise Http404


def can_inspect(actor, org) -> bool:
    if not _authenticated(actor):
        return False
    return in_scope(actor, org.path) or any(org.path.startswith(path) for path in contractor_paths(actor))


def is_desk_for(actor, org) -> bool:
    if not _authenticated(actor):
        return False
    return actor.is_superuser or any(actor.has_role(role, within=org) for role in DESK_ROLES)


def can_view_staff(actor, org) -> bool:
    return in_scope(actor, org.path)


def can_use_workbench(actor) -> bool:
    return _authenticated(actor) and (actor.is_superuser or bool(actor.scope_paths))


def can_use_inspector_pages(actor) -> bool:
    return _authenticated(actor) and (actor.is_superuser or bool(inspector_paths(actor)))


def staff_queryset(actor, queryset: QuerySet, path_field: str = "org__path") -> QuerySet:
    return scope_queryset(actor, queryset, path_field)


def require_inspector(actor, org) -> None:
    """Outside the actor's inspection area the object does not exist for them."""
    if not can_inspect(actor, org):
        raise Http404
