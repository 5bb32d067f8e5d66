"""The staff to-do home (待办), assembled from lines each app contributes in its AppConfig.ready().

The home page lives low in the layers and must not know the apps above it, so — like the member-file
panels — each app registers a source here: a function giving, for one person, the count and the oldest
item of one kind of waiting work. A source runs a fixed number of queries whatever the number of items, so
the home page's query count is flat; a source whose items can run into thousands stops counting at a cap
and says "100+".

Most sources only count rows and take the least of one field: they return a ``Tally`` (the rows, not
their figures), and the home reads every tally of the page in one statement — one round trip instead of
one per line. Building and compiling those queries costs more than running them; a source whose query
depends on the person alone (``person_only``: who they are, their roles, their part of the tree — not the
time) is compiled on the person's first visit and only run on later ones, always on the data of the moment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Count, Min, QuerySet, Value

from kangle.core import rawrows
from kangle.core.rawrows import converted
from kangle.core.roles import person_key

# Urgency ranks, most urgent first: the home orders its lines by rank, then by the oldest item's age.
BREACHED = 0
DUE_SOON = 10
DECIDE = 20  # somebody waits on a decision (extension, returned case)
DISPATCH = 30
APPROVE = 40
ROUTINE = 50


@dataclass(frozen=True)
class TodoLine:
    key: str
    label: object  # a lazy translation
    count: int
    oldest: dt.datetime | None
    url: str
    urgency: int = ROUTINE
    group: str = ""
    detail: str = ""  # an extra phrase, e.g. who has not answered yet
    capped: bool = False  # at least ``count`` (the line stopped counting there)

    @property
    def count_text(self) -> str:
        return f"{self.count}+" if self.capped else str(self.count)


@dataclass(frozen=True)
class Tally:
    """A line still to be counted: how many ``rows`` there are, the least ``oldest`` among them and any
    further ``sums`` (name → aggregate), which ``line`` turns into the line (its argument: ``{"n", "oldest",
    **sums}``)."""

    rows: QuerySet
    oldest: str
    line: Callable[[dict], TodoLine | None]
    sums: Mapping[str, Any] = field(default_factory=dict)


def tally(rows: QuerySet, oldest: str, **line_fields) -> Tally:
    """The usual line: its count is the number of ``rows``, its oldest item the least ``oldest``."""
    return Tally(
        rows, oldest, lambda figures: TodoLine(count=figures["n"], oldest=figures["oldest"], **line_fields)
    )


@dataclass(frozen=True)
class TallyStatement:
    """Tallies compiled into one statement: each tally is an aggregate query returning one row, and the
    statement is their cross join. A tally whose rows are none by construction (``none()``, an empty
    ``IN``) is zero without being asked. Holds no connection: it can be run again, from any thread."""

    using: str
    sql: str
    params: list
    columns: list[tuple[int, list[str], dict]]  # for each tally asked: (its index, its names, converters)
    zero: dict[int, dict]  # the figures of each tally not asked
    lines: list[Callable[[dict], TodoLine | None]]

    @classmethod
    def compile(cls, tallies: list[Tally]) -> TallyStatement:
        zero, parts = {}, []
        for index, item in enumerate(tallies):
            names = ["n", "oldest", *item.sums]
            rows = (
                item.rows.order_by()
                .values(whole=Value(1))  # a constant: no GROUP BY, one row for the whole set
                .annotate(n=Count("pk"), oldest=Min(item.oldest), **item.sums)
                .values(*names)
            )
            compiler = rows.query.get_compiler(using=rows.db)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:
                zero[index] = dict.fromkeys(names) | {"n": 0}
                continue
            converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
            parts.append((index, names, converters, sql, params, compiler.using))
        using = {part[-1] for part in parts} or {"default"}
        if len(using) != 1:
            raise ValueError(f"the tallies of one page read one database, not {sorted(using)}")
        # The parts are the ORM's own compiled SQL, their values passed as parameters.
        statement = "SELECT * FROM " + " CROSS JOIN ".join(  # noqa: S608
            f"({sql}) AS tally{index}" for index, _n, _c, sql, _p, _u in parts
        )
        return cls(
            using=using.pop(),
            sql=statement if parts else "",
            params=[value for *_rest, params, _u in parts for value in params],
            columns=[(index, names, converters) for index, names, converters, *_rest in parts],
            zero=zero,
            lines=[item.line for item in tallies],
        )

    def values_written_in(self) -> TallyStatement:
        """This statement with its values written into its SQL, for one compiled once and run on many
        visits (``rawrows.fixed_into_sql`` says why)."""
        if not self.sql:
            return self
        sql, params, _kept = rawrows.fixed_into_sql(connections[self.using], self.sql, self.params)
        return dataclasses.replace(self, sql=sql, params=params)

    def figures(self) -> list[dict]:
        """Each tally's figures (``{"n", "oldest", **sums}``), read now."""
        found = dict(self.zero)
        if self.sql:
            connection = connections[self.using]
            with connection.cursor() as cursor:
                cursor.execute(self.sql, self.params)
                row = cursor.fetchone()
            start = 0
            for index, names, converters in self.columns:
                values = converted(row[start : start + len(names)], converters, connection)
                start += len(names)
                found[index] = dict(zip(names, values, strict=True))
        return [found[index] for index in range(len(self.lines))]

    def read(self) -> list[TodoLine | None]:
        return [line(figures) for line, figures in zip(self.lines, self.figures(), strict=True)]


def read_tallies(tallies: list[Tally]) -> list[dict]:
    """The figures of every tally, read with one statement."""
    return TallyStatement.compile(tallies).figures()


@dataclass(frozen=True)
class TodoSource:
    key: str
    lines: Callable  # (user, now) -> TodoLine | Tally | None
    roles: frozenset[str]
    order: int = 100
    # Its Tally depends on the person alone — who they are, their roles and their part of the tree — and
    # not on the time: it is compiled once per person and only run on later visits.
    person_only: bool = False


_sources: list[TodoSource] = []

# A person's compiled tallies, by everything their SQL depends on (``roles.person_key``). Bounded: when full
# it is emptied, and the next visits compile again.
_PERSON_STATEMENTS: dict[tuple, TallyStatement] = {}
PERSON_STATEMENTS_KEPT = 2000


def register(key: str, lines: Callable, roles, *, order: int = 100, person_only: bool = False) -> None:
    source = TodoSource(key, lines, frozenset(roles), order, person_only)
    if all(existing.key != key for existing in _sources):
        _sources.append(source)


def _person_lines(user, sources: list[TodoSource], now: dt.datetime) -> list[TodoLine | None]:
    """The lines of the person-only sources: compiled on the person's first visit, then only run."""
    if not sources:
        return []
    key = (person_key(user), tuple(source.key for source in sources))
    statement = _PERSON_STATEMENTS.get(key)
    if statement is None:
        tallies = [source.lines(user, now) for source in sources]
        if not all(isinstance(item, Tally) for item in tallies):
            raise TypeError("a person-only to-do source gives a Tally")
        statement = TallyStatement.compile(tallies).values_written_in()
        if len(_PERSON_STATEMENTS) >= PERSON_STATEMENTS_KEPT:
            _PERSON_STATEMENTS.clear()
        _PERSON_STATEMENTS[key] = statement
    return statement.read()


def lines_for(user, *, now: dt.datetime) -> list[TodoLine]:
    """The lines with waiting work for ``user``, most urgent first (lines with nothing waiting are left out)."""
    roles = set(user.roles)
    wanted = [
        source
        for source in sorted(_sources, key=lambda s: (s.order, s.key))
        if source.roles & roles or user.is_superuser
    ]
    lines = _person_lines(user, [source for source in wanted if source.person_only], now)
    found = [source.lines(user, now) for source in wanted if not source.person_only]
    tallies = [item for item in found if isinstance(item, Tally)]
    lines += TallyStatement.compile(tallies).read() if tallies else []
    lines += [item for item in found if not isinstance(item, Tally)]
    shown = [line for line in lines if line is not None and line.count]
    shown.sort(key=lambda line: (line.urgency, line.oldest or now, line.key))
    return shown


def age_label(oldest: dt.datetime | None, now: dt.datetime) -> str:
    """How long the oldest item has waited — or, for a deadline still ahead, how long is left."""
    from django.utils.translation import gettext as _

    if oldest is None:
        return ""
    if oldest > now:
        return _("due in %(span)s") % {"span": _span(int((oldest - now).total_seconds()))}
    return _("oldest waiting %(span)s") % {"span": _span(int((now - oldest).total_seconds()))}


def _span(seconds: int) -> str:
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    if seconds < 3600:
        minutes = max(1, seconds // 60)
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    if seconds < 2 * 86400:
        hours = seconds // 3600
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    days = seconds // 86400
    return _("%(n)d days") % {"n": days}
