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

``joined_after`` names foreign keys of the rows whose shown fields (``microgrid__code``) are joined once a
group's rows are cut, for the rows kept only: joined inside, PostgreSQL joins every row of the group first
(a merge join over the whole related table, per group) and then cuts.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from kangle.core.rawrows import converted, fixed_into_sql, reading_cursor, values_names

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
        joined_after: Sequence[str] = (),
    ):
        first, *within = order
        if not first.lstrip("-").startswith(f"{link}__"):
            raise ValueError(f"the first field of the order must be the group's: {first}")
        self.groups, self.rows, self.link, self.order = groups, rows, link, tuple(order)
        self.start, self.stop = start, stop
        self.joined_after = tuple(joined_after)
        self._group_field = first.lstrip("-")[len(link) + 2 :]
        self._descending = first.startswith("-")
        self._within = [(name.lstrip("-"), name.startswith("-")) for name in within]
        self._after_fields = _fields_joined_after(
            rows, self.joined_after, [name for name, _d in self._within], link
        )

    def _copy(self, **changed) -> InGroups:
        kept = {"groups": self.groups, "rows": self.rows, "start": self.start, "stop": self.stop}
        kept.update(changed)
        return InGroups(
            kept.pop("groups"),
            kept.pop("rows"),
            link=self.link,
            order=self.order,
            joined_after=self.joined_after,
            **kept,
        )

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
        if self._after_fields:
            # Inside, each key's value instead of its fields; ``compose`` joins them to the rows kept.
            inside = [name for name in _names(self.rows) if name not in self._after_fields]
            rows = rows.values(*inside, *(f"{key}_id" for key in self.joined_after))
        return groups, rows if self.stop is None else rows[: self.stop]

    def names(self, inner_names: Sequence[str]) -> list[str]:
        """The read's column names, in order, given its rows part's: the fields joined after come last."""
        kept = [name for name in inner_names if not self._is_key_column(name)]
        return [*kept, *self._after_fields]

    def _is_key_column(self, name: str) -> bool:
        return bool(self._after_fields) and name in {f"{key}_id" for key in self.joined_after}

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
        shown = [f'"{_ROWS}".{quote(name)}' for name in names if not self._is_key_column(name)]
        joins = ""
        for index, key in enumerate(self.joined_after):
            related = self.rows.model._meta.get_field(key).related_model._meta
            alias = quote(f"after{index}")
            joins += (
                f" LEFT OUTER JOIN {quote(related.db_table)} AS {alias} "
                f'ON {alias}.{quote(related.pk.column)} = "{_ROWS}".{quote(f"{key}_id")}'
            )
            shown += [
                f"{alias}.{quote(related.get_field(name[len(key) + 2 :]).column)}"
                for name in self._after_fields
                if name.startswith(f"{key}__")
            ]
        # OFFSET 0 keeps the groups a subquery of their own: read and ordered first, then joined in that order.
        return (
            f"SELECT {', '.join(shown)} "  # noqa: S608 - the ORM's compiled SQL and the models' own names
            f'FROM ({groups_sql} OFFSET 0) AS "{_GROUP}" ("key", "sort") '
            f'CROSS JOIN LATERAL ({rows_sql}) AS "{_ROWS}" ({columns}){joins} ORDER BY {", ".join(order)}{window}'
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
        names = _names(rows)
        # Every value written into the SQL: passed as parameters (the scope's path pattern among them), a
        # prepared statement's generic plan, made without them after five runs, walked every group of the
        # tree (106–146 ms against 4).
        sql, params, _kept = fixed_into_sql(
            connection, self.compose(groups_sql, rows_sql, names, connection), [*groups_params, *rows_params]
        )
        with reading_cursor(connection) as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        inner = compiler.get_converters([column for column, _sql, _alias in compiler.select])
        converters = self.converters(inner, names, using)
        if converters:
            fetched = [converted(row, converters, connection) for row in fetched]
        return [dict(zip(self.names(names), row, strict=False)) for row in fetched]

    def converters(self, inner: dict, inner_names: Sequence[str], using: str) -> dict:
        """The read's converters by column, from its rows part's (``inner``, by the part's columns): the fields
        joined after take those the plain rows would have."""
        if not self._after_fields:
            return inner
        output = self.names(inner_names)
        position = {name: index for index, name in enumerate(output)}
        found = {
            position[inner_names[index]]: converter
            for index, converter in inner.items()
            if not self._is_key_column(inner_names[index])
        }
        plain = self.rows.query.get_compiler(using=using)
        plain.setup_query()
        plain_names = _names(self.rows)
        for index, converter in plain.get_converters([column for column, _s, _a in plain.select]).items():
            if plain_names[index] in self._after_fields:
                found[position[plain_names[index]]] = converter
        return found


def _names(rows: QuerySet) -> list[str]:
    """A ``values()`` read's names, in its columns' order."""
    return values_names(rows.query)


def _fields_joined_after(
    rows: QuerySet, keys: Sequence[str], within: Sequence[str], link: str
) -> tuple[str, ...]:
    """The shown fields that ``keys`` bring (one step: ``key__field``), key by key in ``keys``' order (the
    order ``compose`` selects them in), checked.

    Each key must be a nullable foreign key to its model's primary key, other than ``link``: its join in the
    rows' own read is then a left join nothing else uses, which PostgreSQL drops; the join after the cut is a
    left join too, so a row without the key is still listed. Each key must bring a shown field, none of
    them in the order within a group (the rows are cut before the join)."""
    if not keys:
        return ()
    names = _names(rows)
    fields: list[str] = []
    for key in keys:
        field = rows.model._meta.get_field(key)
        if not field.many_to_one or not field.null or key == link or not field.target_field.primary_key:
            raise ValueError(
                f"only a nullable foreign key to a primary key, not the link, can be joined after: {key}"
            )
        if key in names or f"{key}_id" in names:
            raise ValueError(f"a key joined after cannot be shown as it is: {key}")
        brought = [name for name in names if name.startswith(f"{key}__")]
        if not brought:
            raise ValueError(f"a key joined after must bring a shown field: {key}")
        fields += brought
    for name in fields:
        _key, _sep, rest = name.partition("__")
        if "__" in rest:
            raise ValueError(f"only a key's own fields can be joined after: {name}")
    ordered = [name for name in within if name in fields]
    if ordered:
        raise ValueError(f"the order within a group cannot use fields joined after: {ordered}")
    return tuple(fields)
