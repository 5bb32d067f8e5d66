"""Reads of the organisation tree."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import Count, Q, QuerySet

from kangle.orgs.models import KIND_RANK, OrgKind, OrgUnit

# Every character allowed in a code or the "/" separator sorts below "~" in byte order.
_PATH_UPPER_BOUND = "~"


def subtree_q(path: str, field: str = "path") -> Q:
    """Rows whose ``field`` lies in the subtree rooted at ``path`` (the node itself included).

    PostgreSQL answers ``LIKE 'prefix%'`` from the varchar_pattern_ops index Django creates; SQLite's LIKE
    is case-insensitive and cannot use a plain index, so there it is the equivalent byte-order range.
    """
    if connection.vendor == "sqlite":
        return Q(**{f"{field}__gte": path, f"{field}__lt": path + _PATH_UPPER_BOUND})
    return Q(**{f"{field}__startswith": path})


def paths_q(paths: Iterable[str], field: str = "path") -> Q:
    """The union of several subtrees, dropping paths already covered by another one."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not any(path.startswith(other) for other in kept):
            kept.append(path)
    if not kept:
        return Q(pk__in=[])
    query = Q()
    for path in kept:
        query |= subtree_q(path, field)
    return query


def subtree(unit: OrgUnit) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(subtree_q(unit.path))


def ancestors(unit: OrgUnit) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(code__in=unit.ancestor_codes()).order_by("depth")


def ancestor_of_kind(unit: OrgUnit, kind: str) -> OrgUnit | None:
    if unit.kind == kind:
        return unit
    return ancestors(unit).filter(kind=kind).first()


def counts_by_kind(units: QuerySet[OrgUnit]) -> list[tuple[OrgKind, int]]:
    """How many units of each kind, in tree order of the kinds (kinds with none left out), from one GROUP BY."""
    rows = dict(units.values_list("kind").annotate(n=Count("id")).order_by())
    return [(kind, rows[kind.value]) for kind in OrgKind if rows.get(kind.value)]


def children_with_counts(unit: OrgUnit) -> list[tuple[OrgUnit, int]]:
    """Direct children and how many units sit below each: two queries, the counting done in SQL."""
    children = list(unit.children.order_by("sort_order", "code"))
    if not children:
        return []
    totals = subtree(unit).aggregate(
        **{f"c{index}": Count("id", filter=subtree_q(child.path)) for index, child in enumerate(children)}
    )
    # The child itself is inside its own subtree; report only what is below it.
    return [(child, totals[f"c{index}"] - 1) for index, child in enumerate(children)]


def kinds_below(kind: str) -> list[str]:
    return [k for k, rank in KIND_RANK.items() if rank > KIND_RANK[kind]]
