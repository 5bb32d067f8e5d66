"""The one pagination for API lists: a limit with a maximum, offset (or page) or a seek cursor, a count that
is exact when cheap and capped otherwise. Every page's SQL carries a LIMIT.

    @router.get("/", response=list[RowOut])
    @paginate(Pagination, page_size=50)
    def rows(request):
        return Listing(queryset.order_by("-reported_at", "-id"), row=to_dict, seek=("-reported_at", "-id"))

A view may return a plain ordered queryset (offset pages only) or a ``Listing``; anything else with a
``paginate(limit=, offset=, after=)`` method (e.g. a list made of several disjoint querysets) works too.
The response is ``{"items": [...], "count": n, "count_capped": bool, "next": cursor | null}``: when more
than ``COUNT_CAP`` rows match, ``count`` is the cap and ``count_capped`` is true (shown as "1000+").
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
from collections.abc import Callable, Hashable, Iterable, Sequence
from functools import partial, wraps
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpResponseBase
from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema
from ninja.pagination import PaginationBase, make_response_paginated
from ninja.utils import contribute_operation_args, contribute_operation_callback

from kangle.core.errors import UserError
from kangle.core.grouped import InGroups
from kangle.core.rawrows import bound_reads, counts_together, rows_and_counts, rows_together
from kangle.core.renderers import trusted_json

# Counting up to 10,001 open cases of a street took 74 ms on PostgreSQL at 100k cases, up to 1,001 took 3 ms;
# the page query itself takes under 1 ms. Beyond the cap a list shows "1000+" and keeps its "next" link.
COUNT_CAP = 1_000
MAX_PAGE_SIZE = 100


def _to_count(queryset: QuerySet, cap: int = COUNT_CAP) -> QuerySet:
    """The rows a capped count reads: keys only, unordered, at most ``cap`` + 1."""
    if isinstance(queryset, InGroups):
        queryset = queryset.in_any_group()
    return queryset.order_by().values("pk")[: cap + 1]


def capped_count(queryset: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """(count, capped): counts at most ``cap`` + 1 rows, so a huge match costs no more than a bounded scan."""
    cap = COUNT_CAP if cap is None else cap
    count = _to_count(queryset, cap).count()
    return (cap, True) if count > cap else (count, False)


class PageInfo:
    """Where a numbered page of a workbench list stands; the count is exact up to COUNT_CAP, else "1000+"."""

    def __init__(self, number: int, size: int, count: int, capped: bool):
        self.num_pages = max(1, -(-count // size))
        if not capped:
            number = min(number, self.num_pages)  # past the end: the last page, as Django's get_page does
        self.number, self.size, self.count, self.capped = number, size, count, capped
        self.start = (number - 1) * size
        self.has_previous = number > 1
        self.has_next = number < self.num_pages or capped
        self.previous_page_number, self.next_page_number = number - 1, number + 1
        self.has_other_pages = self.has_previous or self.has_next
        self.pages_text = f"{self.num_pages}+" if capped else str(self.num_pages)
        self.count_text = f"{count}+" if capped else str(count)

    @classmethod
    def of(cls, queryset: QuerySet, raw_number, size: int) -> PageInfo:
        count, capped = capped_count(queryset)
        return cls(_page_number(raw_number), size, count, capped)

    @classmethod
    def shaped(
        cls,
        key: Hashable,
        build: Callable[..., QuerySet],
        values: Sequence,
        raw_number,
        size: int,
        counted: Callable[..., QuerySet] | None = None,
    ) -> tuple[PageInfo, list[dict]]:
        """A numbered page of the ordered ``values()`` read ``build(*values)`` and its rows, the count and
        the page's read compiled once per ``key`` and page (``rawrows.bound_reads``; ``Listing.shaped`` says
        what ``key`` and ``build`` must respect, and what ``counted`` is for). Reads that cannot be bound run
        through the ORM."""
        number, first = _page_number(raw_number), None
        counting = bound_reads((key, "count"), lambda *v: [_to_count((counted or build)(*v))], values)
        if number == 1:
            reading = _page_read(key, build, values, 0, size)
            together = None
            if reading is not None and counting is not None:
                together = rows_and_counts([(reading, values)], [(counting[0], values)])
            first, counts = together or (_page_rows(key, build, values, 0, size), None)
            if len(first) < size:  # a first page that is not full holds every row: they are the count
                return cls(1, size, len(first), False), first
            if counts is not None:
                return cls(1, size, min(counts[0], COUNT_CAP), counts[0] > COUNT_CAP), first
        if counting is None:
            page = cls.of((counted or build)(*values), raw_number, size)
            return page, first if first is not None else list(build(*values)[page.start : page.start + size])
        count = counting[0].count(values)
        page = cls(number, size, min(count, COUNT_CAP), count > COUNT_CAP)
        return page, first if first is not None else _page_rows(key, build, values, page.start, size)


def _page_read(key: Hashable, build: Callable[..., QuerySet], values: Sequence, start: int, size: int):
    reading = bound_reads((key, "rows", start, size), lambda *v: [build(*v)[start : start + size]], values)
    return reading[0] if reading else None


def _page_rows(
    key: Hashable, build: Callable[..., QuerySet], values: Sequence, start: int, size: int
) -> list:
    reading = _page_read(key, build, values, start, size)
    return reading.rows(values) if reading else list(build(*values)[start : start + size])


def _total(counts: Iterable[int]) -> tuple[int, bool]:
    """The parts' capped counts as one: their sum, capped at ``COUNT_CAP``, and whether it was."""
    total, capped = 0, False
    for count in counts:
        total, capped = total + min(count, COUNT_CAP), capped or count > COUNT_CAP
    return (COUNT_CAP, True) if capped or total > COUNT_CAP else (total, False)


def _page_number(raw) -> int:
    try:
        return max(1, int(raw))
    except (TypeError, ValueError):
        return 1


# --- seek cursors ---------------------------------------------------------------------------------------------
def _encode(values: Sequence[Any]) -> str:
    plain = [{"t": value.isoformat()} if isinstance(value, dt.datetime) else {"v": value} for value in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str, size: int) -> list[Any]:
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        values = [dt.datetime.fromisoformat(item["t"]) if "t" in item else item["v"] for item in plain]
    except (ValueError, TypeError, KeyError, AttributeError):
        values = []
    if len(values) != size or not all(_seekable(value) for value in values):
        raise invalid_cursor()
    return values


def _seekable(value) -> bool:
    """What ``_encode`` writes for a seek field: a moment, text, a 64-bit integer or nothing."""
    if type(value) is int:
        return -(2**63) <= value < 2**63
    return value is None or isinstance(value, (str, dt.datetime))


def invalid_cursor() -> UserError:
    return UserError("invalid_cursor", _("The page cursor 'after' is invalid"), field="after")


def _fields(order: Sequence[str]) -> list[tuple[str, bool]]:
    return [(name.lstrip("-"), name.startswith("-")) for name in order]


def seek_q(order: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows after ``values`` in ``order``: (a, b) after (x, y) is a beyond x, or a = x and b beyond y. The
    first field is also bounded on its own, so the database seeks to it in the index instead of walking."""
    fields = _fields(order)
    after = Q()
    for index, (name, descending) in enumerate(fields):
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": values[index]})
        for earlier, (earlier_name, _desc) in enumerate(fields[:index]):
            step &= Q(**{earlier_name: values[earlier]})
        after |= step
    first, descending = fields[0]
    return Q(**{f"{first}__{'lte' if descending else 'gte'}": values[0]}) & after


def _after(part, order: Sequence[str], values: Sequence[Any]):
    """``part``'s rows after ``values`` in ``order``; a read by groups (``core.grouped.InGroups``) also skips
    the groups before the first value."""
    if isinstance(part, InGroups):
        return part.after(seek_q(order, values), values[0])
    return part.filter(seek_q(order, values))


def _sort_key(order: Sequence[str]) -> Callable[[dict], tuple]:
    """A key sorting seek-value tuples in ``order`` (for merging disjoint parts in Python)."""

    class Reversed:
        __slots__ = ("value",)

        def __init__(self, value):
            self.value = value

        def __lt__(self, other):
            return other.value < self.value

        def __eq__(self, other):
            return self.value == other.value

    directions = [descending for _name, descending in _fields(order)]
    return lambda values: tuple(
        Reversed(value) if descending else value for value, descending in zip(values, directions, strict=True)
    )


def _in_seek_order(items: Iterable, order: Sequence[str], values_of: Callable[[Any], tuple]) -> list:
    """``items`` sorted on their seek values (``values_of``) in ``order``. With one direction for every field
    Python's sort compares the plain values (reversed when descending); only mixed directions wrap them."""
    directions = {descending for _name, descending in _fields(order)}
    if len(directions) == 1:
        return sorted(items, key=values_of, reverse=directions.pop())
    key = _sort_key(order)
    return sorted(items, key=lambda item: key(values_of(item)))


class Listing:
    """An ordered queryset, turned into rows after it is sliced; seekable on its ``seek`` order.

    ``queryset`` may be a ``.values()`` queryset (rows are dicts) or of model instances. ``seek`` names the
    ordering (the same as the queryset's, ending in a unique field) and must be readable from each fetched
    row: as dict keys or attributes.
    """

    def __init__(
        self,
        queryset: QuerySet | None,
        *,
        row: Callable[[Any], Any] | None = None,
        rows: Callable[[list], list] | None = None,
        seek: Sequence[str] | None = None,
    ):
        self.parts = [] if queryset is None else [queryset]
        self.row, self.rows, self.seek = row, rows, tuple(seek) if seek else None
        self._seek_names = tuple(name for name, _desc in _fields(self.seek or ()))
        self.shape: tuple | None = None
        self.counted: Callable[..., list[QuerySet]] | None = None

    @classmethod
    def of_parts(cls, parts: Iterable[QuerySet], **kwargs) -> Listing:
        """Disjoint querysets listed as one (each served by its own index), merged on the seek order. The merge
        is in Python: the seek fields must be non-null values Python orders as the database does (times,
        numbers; not text, whose order is the database's collation)."""
        listing = cls(None, **kwargs)
        listing.parts = list(parts)
        if len(listing.parts) > 1 and not listing.seek:
            raise ValueError("merging parts needs a seek order")
        return listing

    @classmethod
    def shaped(
        cls,
        key: Hashable,
        build: Callable[..., list[QuerySet]],
        values: Sequence,
        counted: Callable[..., list[QuerySet]] | None = None,
        **kwargs,
    ) -> Listing:
        """Disjoint ``values()`` parts as ``of_parts`` lists them, built by ``build(*values)`` and compiled once
        per ``key`` (``rawrows.bound_reads``): each request binds its values, and its cursor's, into SQL
        written before. ``key`` names all the parts depend on besides ``values`` (the person, the filters
        that choose a branch); ``build`` must use each value only as a parameter. Reads that cannot be bound
        run through the ORM as ``of_parts`` would.

        ``counted`` builds the same parts selecting only their keys, for the count: the joins a ``values()``
        read makes for its shown columns stay in its SQL when the count keeps only the key, and an inner join
        the rows do not need can turn PostgreSQL from an index-only count to reading every matching row."""
        listing = cls(None, **kwargs)
        listing.shape = (key, build, tuple(values))
        listing.counted = counted
        return listing

    def _bound(self, purpose: str, limit: int = 0, offset: int = 0, cursor: Sequence = ()) -> list | None:
        """The shaped parts' reads for one purpose, bound to this request's values (None: use the ORM)."""
        key, build, values = self.shape
        given = len(values)

        def reads(*bound) -> list[QuerySet]:
            if purpose == "count":
                return [_to_count(part) for part in (self.counted or build)(*bound[:given])]
            parts = build(*bound[:given])
            if cursor:
                parts = [_after(part, self.seek, bound[given:]) for part in parts]
            if len(parts) == 1:
                return [parts[0][offset : offset + limit]]
            return [part[: offset + limit] for part in parts]

        compiled = bound_reads((key, purpose, limit, offset, bool(cursor)), reads, (*values, *cursor))
        return None if compiled is None else [(read, (*values, *cursor)) for read in compiled]

    def _parts(self) -> list[QuerySet]:
        if self.shape is not None and not self.parts:
            key, build, values = self.shape
            self.parts = list(build(*values))
        return self.parts

    def _counted_parts(self) -> list[QuerySet]:
        if self.shape is not None and self.counted is not None:
            key, build, values = self.shape
            return list(self.counted(*values))
        return self._parts()

    def _values(self, item) -> tuple:
        names = self._seek_names
        if isinstance(item, dict):
            return tuple(item[name] for name in names)
        return tuple(getattr(item, name) for name in names)

    def count(self) -> tuple[int, bool]:
        bound = self._bound("count") if self.shape is not None else None
        if bound is not None:
            return _total(counts_together(bound))  # one statement for all parts
        total, capped = 0, False
        for part in self._counted_parts():
            count, part_capped = capped_count(part)
            total, capped = total + count, capped or part_capped
        return (COUNT_CAP, True) if capped or total > COUNT_CAP else (total, False)

    def _first_page_and_counts(self, limit: int) -> tuple[list, list[int] | None] | None:
        """A shaped list's first page and its parts' counts, read with one statement (None: read them apart)."""
        if self.shape is None:
            return None
        rows, counting = self._bound("fetch", limit), self._bound("count")
        if rows is None or counting is None:
            return None
        together = rows_and_counts(rows, counting)
        if together is None:
            return None
        found, counts = together
        if len(rows) > 1:  # the parts' rows in no set order, as ``fetch`` says
            found = _in_seek_order(found, self.seek, self._values)[:limit]
        return found, counts

    def fetch(self, *, limit: int, offset: int = 0, after: str | None = None) -> list:
        """The raw rows of one page (dicts or instances), in order."""
        cursor = []
        if after:
            if not self.seek:
                raise UserError("invalid_cursor", _("This list has no cursor"), field="after")
            cursor, offset = _decode(after, len(self.seek)), 0
        bound = self._bound("fetch", limit, offset, cursor) if self.shape is not None else None
        if bound is not None:
            if len(bound) == 1:
                return bound[0][0].rows(bound[0][1])
            # The parts' rows in one statement, in no set order: ordered here on the seek key (the parts are
            # disjoint and the key ends in a unique field, so the order is total).
            return _in_seek_order(rows_together(bound), self.seek, self._values)[offset : offset + limit]
        parts = self._parts()
        if cursor:
            try:
                parts = [_after(part, self.seek, cursor) for part in parts]
            except (ValidationError, ValueError, TypeError):
                raise invalid_cursor() from None  # a value its field does not take (text for a time)
        if not parts:
            return []
        if len(parts) == 1:
            return list(parts[0][offset : offset + limit])
        fetched = [list(part[: offset + limit]) for part in parts]
        return _in_seek_order(itertools.chain(*fetched), self.seek, self._values)[offset : offset + limit]

    def transform(self, items: list) -> list:
        if self.rows is not None:
            items = self.rows(items)
        if self.row is not None:
            items = [self.row(item) for item in items]
        return items

    def paginate(self, *, limit: int, offset: int = 0, after: str | None = None) -> dict:
        first_page = not after and not offset
        found = self._first_page_and_counts(limit) if first_page else None
        items, counts = (
            found if found is not None else (self.fetch(limit=limit, offset=offset, after=after), None)
        )
        cursor = _encode(self._values(items[-1])) if self.seek and len(items) == limit else None
        if first_page and len(items) < limit:
            count, capped = len(items), False  # a first page that is not full holds every row: no count
        elif counts is not None:
            count, capped = _total(counts)
        else:
            count, capped = self.count()
        return {"items": self.transform(items), "count": count, "count_capped": capped, "next": cursor}


class Pagination(PaginationBase):
    """ninja pagination for every API list (``@paginate(Pagination, page_size=…)``)."""

    class Input(Schema):
        page: int | None = Field(None, ge=1, description="page number (pages of `limit` rows)")
        limit: int | None = Field(None, ge=1, description=f"rows per page, at most {MAX_PAGE_SIZE}")
        offset: int = Field(0, ge=0, description="rows to skip (ignored with `page` or `after`)")
        after: str | None = Field(None, description="seek cursor: the `next` of the previous page")

    class Output(Schema):
        items: list[Any]
        count: int
        count_capped: bool = False
        next: str | None = None

    items_attribute = "items"

    def __init__(self, *, page_size: int = 50, max_size: int = MAX_PAGE_SIZE, **kwargs):
        super().__init__(**kwargs)
        self.page_size, self.max_size = page_size, max_size

    def paginate_queryset(self, queryset, pagination: Input, request=None, **params) -> dict:
        limit = min(pagination.limit or self.page_size, self.max_size)
        offset = (pagination.page - 1) * limit if pagination.page else pagination.offset
        source = queryset if hasattr(queryset, "paginate") else Listing(queryset)
        return source.paginate(limit=limit, offset=offset, after=pagination.after)


def paginate_trusted(*, page_size: int = 50, max_size: int = MAX_PAGE_SIZE):
    """``@paginate(Pagination, page_size=…)`` for lists whose rows our own code builds from typed columns:
    the same parameters, the same documented response, but the page goes straight to JSON
    (``core.renderers.trusted_json``) instead of through one pydantic model per row. Put it under
    ``@router.get(…, response=list[RowOut])`` exactly where ``@paginate`` would go."""
    paginator = Pagination(page_size=page_size, max_size=max_size)

    def decorator(func):
        @wraps(func)
        def view(request, **kwargs):
            params = kwargs.pop("ninja_pagination", None) or Pagination.Input()
            source = func(request, **kwargs)
            if isinstance(source, HttpResponseBase):
                return source
            return trusted_json(request, paginator.paginate_queryset(source, params, request=request))

        contribute_operation_args(view, "ninja_pagination", Pagination.Input, paginator.InputSource)
        contribute_operation_callback(view, partial(make_response_paginated, paginator))
        view._ninja_is_paginated = True
        return view

    return decorator
