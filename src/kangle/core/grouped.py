"""A list ordered first by a group it joins to (member files by their community's path), read group by group.

Ordered by a column of a joined table, a list's first page is a plan PostgreSQL can badly misjudge: to find a
street's first 50 files in the order of their communities' paths, it walked the whole city's units in path
order (58,000 units, 80 ms), because no estimate tells it how far it must go before the street's units
begin. ``InGroups`` writes the read so that there is nothing to misjudge: the groups first (the street's two
dozen communities, in order), then for each group its own first rows, joined LATERAL, so the database
stops after the groups that fill the page.

    InGroups(communities, files.values(...), link="community", order=("community__path", "name", "id"))

``order``'s first field is the group's order seen from the rows (``link`` + ``__`` + the group's field); the
others order the rows within a group and must be among the rows' ``values()`` names. The rows keep every
condition of their own (the person's scope among them): ``groups`` only has to hold every group a row may
be in, so a group too many costs a probe and no more (a group named twice is read once). A row whose link
is empty is in no group and is not listed, where a plain read would list it last: use it on a required
link, or on rows filtered to those that have one. A read of this shape is PostgreSQL's (SQLite has no
LATERAL join); ``rawrows.bound_reads`` compiles it once like any other read, or it runs on its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from kangle.core.rawrows import converted, reading_cursor

_GROUP = "in_group"
_ROWS = "grouped"


class InGroups:
    """The rows of ``rows`` that lie in one of ``groups``, in ``order``, sliced like a queryset."""

    def __init__(
        self,
        groups: QuerySet,
        rows: QuerySet,
        *,
        link: str,
        order: Sequence[str],
        start: int = 0,
        stop: int | None = None,
    ):
        first, *within = order
        if not first.lstrip("-").startswith(f"{link}__"):
            raise ValueError(f"the first field of the order must be the group's: {first}")
        self.groups, self.rows, self.link, self.order = groups, rows, link, tuple(order)
        self.start, self.stop = start, stop
        self._group_field = first.lstrip("-")[len(link) + 2 :]
        self._descending = first.startswith("-")
        self._within = [(name.lstrip("-"), name.startswith("-")) for name in within]

    def _copy(self, **changed) -> InGroups:
        kept = {"groups": self.groups, "rows": self.rows, "start": self.start, "stop": self.stop}
        kept.update(changed)
        return InGroups(kept.pop("groups"), kept.pop("rows"), link=self.link, order=self.order, **kept)

    def filter(self, *args, **kwargs) -> InGroups:
        """Only the rows that also match (the groups stay as they are)."""
        return self._copy(rows=self.rows.filter(*args, **kwargs))

    def after(self, after: Q, first_value) -> InGroups:
        """Rows matching the seek condition ``after``, whose first order value is ``first_value``: the groups
        before that value are not visited at all."""
        bound = f"{self._group_field}__{'lte' if self._descending else 'gte'}"
        return self._copy(rows=self.rows.filter(after), groups=self.groups.filter(**{bound: first_value}))

    def __getitem__(self, window: slice) -> InGroups:
        """A slice of the rows, as a queryset's: within the slice already taken, never negative."""
        if not isinstance(window, slice) or window.step is not None:
            raise TypeError("InGroups takes a slice without a step")
        if (window.start or 0) < 0 or (window.stop is not None and window.stop < 0):
            raise ValueError("Negative indexing is not supported.")
        start = self.start + (window.start or 0)
        stop = None if window.stop is None else self.start + window.stop
        if self.stop is not None:
            stop = self.stop if stop is None else min(stop, self.stop)
        if stop is not None:
            start = min(start, stop)
        return self._copy(start=start, stop=stop)

    def in_any_group(self) -> QuerySet:
        """The same rows as one plain read, unordered and unsliced: what a count counts."""
        return self.rows.filter(**{f"{self.link}__in": self.groups.values("pk")})

    def parts(self) -> tuple[QuerySet, QuerySet]:
        """The two reads the SQL is made of: the groups' keys in order, and a group's rows in their order
        (the group's key left to the join, as ``"in_group"."key"``)."""
        group_order = f"{'-' if self._descending else ''}{self._group_field}"
        groups = self.groups.order_by(group_order).values("pk", self._group_field).distinct()
        within = [f"{'-' if descending else ''}{name}" for name, descending in self._within]
        joined = RawSQL(f'"{_GROUP}"."key"', ())  # noqa: S611 - a fixed alias of this module, no value
        rows = self.rows.filter(**{self.link: joined}).order_by(*within)
        return groups, rows if self.stop is None else rows[: self.stop]

    def compose(self, groups_sql: str, rows_sql: str, names: Sequence[str], connection) -> str:
        """The read's SQL from its parts' compiled SQL; ``names`` are the rows' ``values()`` names."""
        quote = connection.ops.quote_name
        missing = [name for name, _descending in self._within if name not in names]
        if missing:
            raise ValueError(f"the order within a group must be among the rows' values: {missing}")
        columns = ", ".join(quote(name) for name in names)
        order = [f'"{_GROUP}"."sort"{" DESC" if self._descending else ""}']
        order += [
            f'"{_ROWS}".{quote(name)}{" DESC" if descending else ""}' for name, descending in self._within
        ]
        window = f" LIMIT {self.stop - self.start}" if self.stop is not None else ""
        window += f" OFFSET {self.start}" if self.start else ""
        # OFFSET 0 keeps the groups a subquery of their own: read and ordered first, then joined in that order.
        return (
            f'SELECT "{_ROWS}".* FROM ({groups_sql} OFFSET 0) AS "{_GROUP}" ("key", "sort") '  # noqa: S608
            f'CROSS JOIN LATERAL ({rows_sql}) AS "{_ROWS}" ({columns}) ORDER BY {", ".join(order)}{window}'
        )

    def __iter__(self):
        return iter(self.fetch())

    def fetch(self, using: str = "default") -> list[dict]:
        """The rows, read with the SQL compiled now (``rawrows.bound_reads`` compiles it once instead)."""
        connection = connections[using]
        groups, rows = self.parts()
        try:
            groups_sql, groups_params = groups.query.get_compiler(using=using).as_sql()
            compiler = rows.query.get_compiler(using=using)
            rows_sql, rows_params = compiler.as_sql()
        except EmptyResultSet:
            return []
        names = [*rows.query.extra_select, *rows.query.values_select, *rows.query.annotation_select]
        sql = self.compose(groups_sql, rows_sql, names, connection)
        with reading_cursor(connection) as cursor:
            cursor.execute(sql, [*groups_params, *rows_params])
            fetched = cursor.fetchall()
        converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
        if converters:
            fetched = [converted(row, converters, connection) for row in fetched]
        return [dict(zip(names, row, strict=False)) for row in fetched]
