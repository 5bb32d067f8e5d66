"""The one scope helper: filter any queryset to the part of the tree a person is responsible for.

It needs only what ``accounts.User`` provides — ``is_superuser`` and ``scope_paths`` (the paths of the
org units where the user holds a staff role) — so it can sit here, below ``accounts``, and every app
above uses it. An object outside the scope is a 404, never a 403: existence is not leaked.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from kangle.orgs.selectors import overlapping_q, paths_q, units_under_q

M = TypeVar("M", bound=Model)


class ScopedActor(Protocol):
    is_authenticated: bool
    is_superuser: bool

    @property
    def scope_paths(self) -> list[str]: ...


# The reach of someone who holds no staff node: nothing.
NOTHING = Q(pk__in=[])


def scope_q(actor: ScopedActor, path_field: str = "org__path") -> Q | None:
    """The actor's part of the tree as one filter on ``path_field``, to combine with other conditions (an
    ``|`` with "reported by me", say); None for a superuser, who is not filtered; ``NOTHING`` for anyone
    without a staff node."""
    if not getattr(actor, "is_authenticated", False):
        return NOTHING
    if actor.is_superuser:
        return None
    paths = actor.scope_paths
    return paths_q(paths, path_field) if paths else NOTHING


def overlap_q(actor: ScopedActor, path_field: str = "path") -> Q | None:
    """Units in the actor's part of the tree or above one of its nodes (the community holding a micro-grid
    staff member's files), as ``scope_q`` gives it: None for a superuser, ``NOTHING`` for no staff node."""
    reach = scope_q(actor, path_field)
    if reach is None or reach is NOTHING:
        return reach
    return overlapping_q(actor.scope_paths, path_field)


def scope_counted(actor: ScopedActor, queryset: QuerySet[M], key: str = "org") -> QuerySet[M]:
    """``scope_queryset``'s rows, tested on their unit's id (``orgs.selectors.AmongUnits``) on PostgreSQL: for a
    count capped at a limit, which then reads the part's own rows only. A page of rows in another order is
    read better by ``scope_queryset``. SQLite joins by nested loops only (no merge join to go astray), and
    would first build the list of the part's units for ``IN``: it keeps the join."""
    if connection.vendor != "postgresql":
        return scope_queryset(actor, queryset, f"{key}__path")
    reach = scope_q(actor)
    if reach is None:
        return queryset
    if reach is NOTHING:
        return queryset.none()
    return queryset.filter(units_under_q(actor.scope_paths, key))


def scope_queryset(actor: ScopedActor, queryset: QuerySet[M], path_field: str = "org__path") -> QuerySet[M]:
    """Rows of ``queryset`` whose org path lies under one of the actor's staff nodes (one SQL query)."""
    reach = scope_q(actor, path_field)
    if reach is None:
        return queryset
    if reach is NOTHING:
        return queryset.none()
    return queryset.filter(reach)


def get_in_scope_or_404(
    actor: ScopedActor, queryset: QuerySet[M], path_field: str = "org__path", **lookup
) -> M:
    try:
        return scope_queryset(actor, queryset, path_field).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404 from None


def in_scope(actor: ScopedActor, path: str) -> bool:
    if not getattr(actor, "is_authenticated", False):
        return False
    if actor.is_superuser:
        return True
    return any(path.startswith(scope) for scope in actor.scope_paths)
