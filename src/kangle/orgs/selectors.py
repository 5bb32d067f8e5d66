"""Reads of the organisation tree."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import Count, Q, QuerySet, Value

from kangle.core.rawrows import Prepared, bound_rows
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


def ancestor_paths(paths: Iterable[str]) -> list[str]:
    """The paths of every unit above one of ``paths`` (each path's proper prefixes), sorted."""
    found = set()
    for path in paths:
        codes = [code for code in path.split("/") if code]
        found.update("/" + "/".join(codes[:n]) + "/" for n in range(1, len(codes)))
    return sorted(found)


def overlapping_q(paths: Iterable[str], field: str = "path") -> Q:
    """Rows whose ``field`` lies in one of the subtrees at ``paths`` or above one of them."""
    paths = list(paths)
    return paths_q(paths, field) | Q(**{f"{field}__in": ancestor_paths(paths)})


def subtree(unit: OrgUnit) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(subtree_q(unit.path))


def ancestors(unit: OrgUnit) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(code__in=unit.ancestor_codes()).order_by("depth")


def ancestor_of_kind(unit: OrgUnit, kind: str) -> OrgUnit | None:
    if unit.kind == kind:
        return unit
    return ancestors(unit).filter(kind=kind).first()


def counts_by_kind(unit: OrgUnit) -> list[tuple[OrgKind, int]]:
    """How many units of each kind in ``unit``'s subtree, in tree order of the kinds (kinds with none left
    out), from one GROUP BY whose SQL is compiled once per subtree (``rawrows.bound_rows``)."""
    rows = bound_rows(
        ("orgs.kind_counts", unit.path),
        lambda: subtree(unit).values("kind").annotate(n=Count("id")).order_by(),
    )
    found = {row["kind"]: row["n"] for row in rows}
    return [(kind, found[kind.value]) for kind in OrgKind if found.get(kind.value)]


# A unit's direct children in their order, compiled once per process.
_CHILDREN = Prepared(lambda pk: OrgUnit.objects.filter(parent_id=pk).order_by("sort_order", "code"))


def children_with_counts(unit: OrgUnit) -> list[tuple[OrgUnit, int]]:
    """Direct children and how many units sit below each: two queries, the counting done in SQL with the
    counting query compiled once per subtree and set of children."""
    children = _CHILDREN.all(unit.pk)
    if not children:
        return []

    def totals_read():
        counts = {
            f"c{index}": Count("id", filter=subtree_q(child.path)) for index, child in enumerate(children)
        }
        # One row of counts: grouped on a constant, so it is a values() read that can be compiled once.
        return subtree(unit).order_by().annotate(one=Value(1)).values("one").annotate(**counts)

    found = bound_rows(("orgs.child_counts", unit.path, tuple(child.path for child in children)), totals_read)
    totals = found[0] if found else {}
    # The child itself is inside its own subtree; report only what is below it.
    return [(child, totals.get(f"c{index}", 1) - 1) for index, child in enumerate(children)]


def kinds_below(kind: str) -> list[str]:
    return [k for k, rank in KIND_RANK.items() if rank > KIND_RANK[kind]]
