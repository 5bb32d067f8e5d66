"""Reads of the organisation tree."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import BooleanField, Count, Expression, F, Q, QuerySet, Subquery

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


class AmongUnits(Expression):
    """A condition: the row's ``key`` (a unit's id) is the id of one of ``units``.

    On PostgreSQL it is written ``key = ANY(ARRAY(SELECT id …))``: the units are read once, then the key's
    index is probed unit by unit. For a count capped at a limit that stops after the first units' rows; the
    same test as a join (or ``IN``, which PostgreSQL turns into one) was planned as a merge join that walks
    the key's index across every other unit's rows in key order until enough of this part's are found
    (a street's open cases: 5,217 index entries read to count 1,001). Rows read in another order (a list's
    page) are better served by the join, which tests the few rows the page needs. Elsewhere it is ``IN``.
    For a required key: negated (``exclude``), a row without a unit would be left out, where the path join's
    negation keeps it.
    """

    conditional = True

    def __init__(self, key: str, units: QuerySet):
        super().__init__(output_field=BooleanField())
        self.key, self.units = F(key), Subquery(units.order_by().values("pk"))

    def get_source_expressions(self):
        return [self.key, self.units]

    def set_source_expressions(self, expressions):
        self.key, self.units = expressions

    def as_sql(self, compiler, connection):
        key_sql, key_params = compiler.compile(self.key)
        units_sql, units_params = compiler.compile(self.units)
        among = f"= ANY(ARRAY{units_sql})" if connection.vendor == "postgresql" else f"IN {units_sql}"
        return f"{key_sql} {among}", (*key_params, *units_params)


def units_under_q(paths: Iterable[str], key: str = "org") -> Q:
    """Rows whose unit (the foreign key ``key``) lies in one of the subtrees at ``paths``, tested on the unit's
    id (``AmongUnits``) rather than joined on its path: what a capped count of a part of the tree asks."""
    return Q(AmongUnits(f"{key}_id", OrgUnit.objects.filter(paths_q(paths))))


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


# A unit's direct children in their order, compiled once per process.
_CHILDREN = Prepared(lambda pk: OrgUnit.objects.filter(parent_id=pk).order_by("sort_order", "code"))


def unit_summary(unit: OrgUnit) -> tuple[list[tuple[OrgKind, int]], list[tuple[OrgUnit, int]]]:
    """How many units of each kind ``unit``'s subtree holds (in tree order of the kinds, kinds with none left
    out), and its direct children with how many units sit below each: two queries, the children and one
    GROUP BY over the subtree that counts both (compiled once per subtree and set of children). Two reads
    counted them before, each walking the subtree."""
    children = _CHILDREN.all(unit.pk)

    def counts_read():
        below = {
            f"c{index}": Count("id", filter=subtree_q(child.path)) for index, child in enumerate(children)
        }
        return subtree(unit).order_by().values("kind").annotate(n=Count("id"), **below)

    rows = bound_rows(("orgs.unit_summary", unit.path, tuple(child.path for child in children)), counts_read)
    found = {row["kind"]: row["n"] for row in rows}
    counts = [(kind, found[kind.value]) for kind in OrgKind if found.get(kind.value)]
    # The child itself is inside its own subtree; report only what is below it.
    below = [sum(row[f"c{index}"] for row in rows) - 1 for index in range(len(children))]
    return counts, list(zip(children, below, strict=True))


def kinds_below(kind: str) -> list[str]:
    return [k for k, rank in KIND_RANK.items() if rank > KIND_RANK[kind]]
