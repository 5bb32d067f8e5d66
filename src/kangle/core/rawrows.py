"""SQL the ORM would otherwise rebuild on every call, for the paths that run it most.

For the queries every request runs (the session or a bearer token with its user, a case by its number, a
check-in's reads) the ORM's work of building and compiling the query costs more than the database does:
about a millisecond each, several times the query itself. ``Prepared`` compiles such a read once and binds
new values into it, ``values_at`` compiles a read of rows at a moment once and binds the moment into it;
``insert_one`` and ``update_one`` write a row with SQL written once; ``rows_table`` and ``insert_rows`` pass
a page of thousands of rows as one parameter instead of a placeholder per value.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Hashable, Mapping, Sequence

import orjson
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connections, router, transaction
from django.db.models import (
    BigIntegerField,
    BooleanField,
    CharField,
    ForeignKey,
    IntegerField,
    Model,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    SmallIntegerField,
    TextField,
)


def reading_cursor(connection):
    """A cursor for reading rows, with PostgreSQL timestamps parsed by the driver's own (compiled) loader.
    Django's loader is a Python subclass that parses each timestamp and then sets its zone: about 4 µs a value,
    a millisecond for a list page's 250 moments. The two agree while the session's time zone is UTC, which
    Django sets on every connection when ``USE_TZ`` is on and the database has no ``TIME_ZONE`` of its own."""
    cursor = connection.cursor()
    if connection.vendor == "postgresql" and connection.timezone is dt.UTC:
        cursor.cursor.adapters.register_loader("timestamptz", _driver_timestamptz_loader())
    return cursor


def prepares_statements(connection) -> bool:
    """Whether the connection's driver prepares the statements it runs often (PostgreSQL with
    ``KANGLE_DATABASE_PREPARE`` on)."""
    options = connection.settings_dict.get("OPTIONS") or {}
    return connection.vendor == "postgresql" and options.get("prepare_threshold") is not None


_PLACEHOLDER = re.compile(r"%[%s]")


def fixed_into_sql(
    connection, sql: str, params: Sequence, kept: Sequence[int] = ()
) -> tuple[str, list, list]:
    """A compiled read's SQL with every parameter but those at positions ``kept`` written into it as a
    literal: (the SQL, the kept parameters, the position each kept one has now, in the order given).

    For reads compiled once per person and shape, whose other values (the person's subtree path, a status
    list) never change for that SQL. A prepared statement is planned once per connection, but only if its
    generic plan, made without the values, looks cheap enough; for a value such as a path pattern or a
    state that picks a partial index it does not, so PostgreSQL planned the statement again on every run
    (6–7 ms for the to-do home's tallies, 2 ms to run). With those values written in, the plan made once is
    the right one. Values are quoted by the driver (``ops.compose_sql``), never by hand. Only where
    statements are prepared: elsewhere the SQL is given back as it is."""
    if not prepares_statements(connection) or len(kept) == len(params):
        return sql, list(params), list(kept)
    placing = {position: index for index, position in enumerate(kept)}
    pieces, left, moved, cursor = [], [], [None] * len(kept), 0
    position = 0
    for match in _PLACEHOLDER.finditer(sql):
        pieces.append(sql[cursor : match.start()])
        cursor = match.end()
        if match.group() == "%%":
            pieces.append("%%")
            continue
        if position in placing:
            moved[placing[position]] = len(left)
            left.append(params[position])
            pieces.append("%s")
        else:
            # The statement is still run with a parameter list, so a percent sign in the literal is doubled.
            pieces.append(connection.ops.compose_sql("%s", [params[position]]).replace("%", "%%"))
        position += 1
    if position != len(params):
        raise ValueError(f"{position} placeholders for {len(params)} parameters")
    pieces.append(sql[cursor:])
    return "".join(pieces), left, moved


@functools.cache
def _driver_timestamptz_loader():
    import psycopg
    from psycopg.pq import Format

    return psycopg.adapters.get_loader(psycopg.postgres.types["timestamptz"].oid, Format.TEXT)


def rows_table(
    columns: Sequence[tuple[str, str]], rows: Sequence[Sequence], using: str = "default"
) -> tuple[str, list]:
    """Many rows as a derived table ``page(<columns>)`` read from one JSON parameter (``json_array_elements``
    on PostgreSQL, ``json_each`` on SQLite). A thousand rows are then not thousands of placeholders for the
    driver to scan and the server to parse, nor text arrays for the driver to quote value by value.
    ``columns`` are (name, PostgreSQL type) pairs, fixed names only, never input; values are what the
    database takes (``get_db_prep_save``) and must be JSON-able (no bytes)."""
    data = orjson.dumps([list(row) for row in rows], default=str).decode()
    if connections[using].vendor == "postgresql":
        picks = ", ".join(
            f"CAST(r->>{index} AS {kind}) AS {name}" for index, (name, kind) in enumerate(columns)
        )
        return f"SELECT {picks} FROM json_array_elements(CAST(%s AS json)) AS r", [data]  # noqa: S608
    picks = ", ".join(
        f"json_extract(value, '$[{index}]') AS {name}" for index, (name, _t) in enumerate(columns)
    )
    return f"SELECT {picks} FROM json_each(%s)", [data]  # noqa: S608


def _constant(field, constants: dict):
    for key in (field.name, field.attname):
        if key in constants:
            return constants[key]
    return field.get_default()


def insert_rows(model: type[Model], fields: Sequence[str], rows: Sequence[Sequence], **constants) -> int:
    """Insert new rows of ``model``: ``rows`` hold the values of ``fields`` in that order, ``constants`` one
    value for every row (both by field name or attname: ``recipient_id``), and every other field takes its
    default. No primary keys come back.

    On PostgreSQL each chunk of rows is one ``INSERT … SELECT`` over ``rows_table``: ``bulk_create``'s
    statement has a placeholder per value and needs a model instance per row, and for the thousands of rows
    of an SLA sweep page (its notices) building, scanning and parsing that cost more than the insert.
    SQLite binds placeholders natively, so it keeps ``bulk_create``."""
    if not rows:
        return 0
    using = router.db_for_write(model)
    connection = connections[using]
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(fields, row, strict=True)), **constants) for row in rows]
        model.objects.using(using).bulk_create(objects, batch_size=1000)
        return len(objects)
    meta = model._meta
    varying = [meta.get_field(name) for name in fields]
    fixed = [field for field in meta.concrete_fields if not field.primary_key and field not in varying]
    quote = connection.ops.quote_name
    targets = ", ".join(quote(field.column) for field in [*varying, *fixed])
    spec = [(f"c{index}", field.db_type(connection)) for index, field in enumerate(varying)]
    fixed_values = [field.get_db_prep_save(_constant(field, constants), connection) for field in fixed]
    picks = ", ".join(
        [*(name for name, _type in spec), *(f"CAST(%s AS {field.db_type(connection)})" for field in fixed)]
    )
    preparers = [_preparer(field, connection) for field in varying]
    for start in range(0, len(rows), 5000):
        prepared = [
            [prepare(value) for prepare, value in zip(preparers, row, strict=True)]
            for row in rows[start : start + 5000]
        ]
        table, params = rows_table(spec, prepared, using)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({targets}) SELECT {picks} FROM ({table}) AS page",  # noqa: S608
                [*fixed_values, *params],
            )
    return len(rows)


# Field classes whose value a plain Python value of the listed type already is, as the database takes it
# (``get_db_prep_save`` gives it back unchanged). Exact classes only: a subclass (an encrypted text field)
# may change its value on the way in.
_PLAIN = {
    CharField: str,
    TextField: str,
    BooleanField: bool,
    IntegerField: int,
    BigIntegerField: int,
    SmallIntegerField: int,
    PositiveIntegerField: int,
    PositiveSmallIntegerField: int,
}


def _preparer(field, connection):
    """``get_db_prep_save`` for one field's values, skipped for values already as the database takes them:
    thousands of rows a page make the calls a visible part of a bulk insert."""
    plain = _PLAIN.get(type(field))
    if isinstance(field, ForeignKey):
        plain = _PLAIN.get(type(field.target_field)) or (int if field.target_field.primary_key else None)
    prepare = field.get_db_prep_save
    if plain is None:
        return lambda value: prepare(value, connection)
    return lambda value: value if type(value) is plain or value is None else prepare(value, connection)


_INSERTS: dict[tuple, tuple[str, list, list]] = {}


def _insert_parts(model: type[Model], connection, computed: dict, unless_present: Sequence[str]):
    """(the INSERT's head ``INSERT INTO t (columns)``, its value expressions, its tail, the fields)."""
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    unknown = set(computed) - {field.name for field in fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no field {sorted(unknown)}")
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)})"
    marks = [computed[field.name][0] if field.name in computed else "%s" for field in fields]
    conflict = ""
    if unless_present:
        targets = ", ".join(quote(meta.get_field(name).column) for name in unless_present)
        conflict = f" ON CONFLICT ({targets}) DO NOTHING"
    return head, marks, conflict, fields


def _values(obj: Model, fields, computed: dict, connection, skip: str = "") -> list:
    values = []
    for field in fields:
        if field.name in computed:
            values.extend(computed[field.name][1])
        elif field.name != skip:
            values.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
    return values


def _inserted(obj: Model, pk, using: str) -> Model:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = using
    return obj


def insert_one(
    obj: Model,
    *,
    computed: dict[str, tuple[str, Sequence]] | None = None,
    unless_present: Sequence[str] = (),
    followed_by: tuple[Model, str] | None = None,
) -> Model | None:
    """Insert one new instance, as ``save()`` does for a new row, with its SQL written once per model and
    database instead of compiled by the ORM on every call; the primary key comes back through
    ``RETURNING``. No signals are sent: for rows written on busy paths (audit events, check-ins), which
    have no receivers.

    ``computed`` gives fields whose value the INSERT computes: name → (SQL, its parameters), a subquery
    say, so nothing is read beforehand. ``unless_present`` names the fields of a unique constraint: when a
    row with those values is already there nothing is written and None comes back (``ON CONFLICT DO
    NOTHING``), without an error to catch or a transaction to roll back.

    ``followed_by`` is (a second new instance, its field that refers to this row): it is written only if
    this row is, in the same transaction, and gets its key too — an event recorded with what it is about.
    On PostgreSQL both are one statement (the second ``INSERT … SELECT`` reads the first's ``RETURNING``),
    so a busy path pays one round trip instead of four (BEGIN, two INSERTs, COMMIT)."""
    model = type(obj)
    using = router.db_for_write(model)
    connection = connections[using]
    computed = computed or {}
    if followed_by is not None and connection.vendor != "postgresql":
        with transaction.atomic(using=using):
            if insert_one(obj, computed=computed, unless_present=unless_present) is None:
                return None
            second, refers = followed_by
            target = second._meta.get_field(refers)
            setattr(second, target.attname, target.to_python(obj.pk))
            insert_one(second)
        return obj
    key = (
        model,
        using,
        tuple((name, sql) for name, (sql, _p) in computed.items()),
        tuple(unless_present),
        followed_by and (type(followed_by[0]), followed_by[1]),
    )
    if key not in _INSERTS:
        quote = connection.ops.quote_name
        head, marks, conflict, fields = _insert_parts(model, connection, computed, unless_present)
        pk = quote(model._meta.pk.column)
        sql = f"{head} VALUES ({', '.join(marks)}){conflict} RETURNING {pk}"
        second_fields = []
        if followed_by is not None:
            second_model, refers = type(followed_by[0]), followed_by[1]
            target = second_model._meta.get_field(refers)
            second_head, second_marks, _c, second_fields = _insert_parts(second_model, connection, {}, ())
            link = f"CAST(written.{pk} AS {target.db_type(connection)})"
            picks = ", ".join(
                link if field is target else mark
                for field, mark in zip(second_fields, second_marks, strict=True)
            )
            sql = (
                f"WITH written AS ({sql}) {second_head} SELECT {picks} FROM written"  # noqa: S608
                f" RETURNING {quote(second_model._meta.pk.column)}, {quote(target.column)}"
            )
        _INSERTS[key] = (sql, fields, second_fields)
    sql, fields, second_fields = _INSERTS[key]
    values = _values(obj, fields, computed, connection)
    if followed_by is not None:
        values += _values(followed_by[0], second_fields, {}, connection, skip=followed_by[1])
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return None
    if followed_by is None:
        return _inserted(obj, row[0], using)
    second, refers = followed_by
    _inserted(second, row[0], using)
    setattr(second, second._meta.get_field(refers).attname, row[1])
    return _inserted(obj, model._meta.pk.to_python(row[1]), using)


_UPDATES: dict[tuple, str] = {}


def update_one(model: type[Model], pk, **values) -> int:
    """Set fields of one row by its primary key with an UPDATE written once per model, fields and database
    (what ``filter(pk=…).update(…)`` does, without compiling it on every call); the number of rows changed.
    Values are taken as the fields would save them; no signals, no ``auto_now``."""
    using = router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    fields = [meta.get_field(name) for name in values]
    key = (model, using, tuple(values))
    if key not in _UPDATES:
        quote = connection.ops.quote_name
        sets = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        _UPDATES[key] = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values.values(), strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(_UPDATES[key], [*params, meta.pk.get_db_prep_value(pk, connection)])
        return cursor.rowcount


class Prepared:
    """A read of fixed shape whose parameters change per request (a row by its key, say): the ORM builds and
    compiles it once per database, later calls bind new values into that SQL and build the instances the
    way a queryset does (``select_related`` and ``only`` included).

    ``build`` takes one marker per parameter and returns the queryset; each marker (an integer, or its digits
    as text for a text column) must reach the SQL unchanged and exactly once, which the first call checks.
    Calls may come from several threads: the compiled query is only read after it is made. A read that
    matches nothing by its shape (``none()``, a person with no part of the tree) reads no rows, without
    asking the database, as the ORM does."""

    # Numbers that fit every integer field, down to a small one (see ``_INT_MARK``): a comparison with a
    # number its field cannot hold is written as no rows at all on PostgreSQL.
    _markers = (30_001, 30_002, 30_003)

    def __init__(self, build, parameters: int = 1):
        self.build = build
        self.parameters = parameters
        self._compiled: dict[str, tuple] = {}

    def _compile(self, using: str) -> tuple | None:
        from django.db.models.query import get_related_populators

        markers = self._markers[: self.parameters]
        queryset = self.build(*markers)
        compiler = queryset.query.get_compiler(using=using)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return None
        positions = [
            [index for index, value in enumerate(params) if value in (marker, str(marker))]
            for marker in markers
        ]
        if any(len(found) != 1 for found in positions):
            raise ValueError(f"each parameter must appear once in the SQL: {positions}")
        klass_info = compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = [column[0].target.attname for column in compiler.select[start:end]]
        populators = get_related_populators(klass_info, compiler.select, using)
        layout = ((start, end), init_list, populators, dict(compiler.annotation_col_map or {}))
        # Found once here: ``results_iter`` would look them up again on every call.
        converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
        sql, params, positions = fixed_into_sql(
            connections[using], sql, params, [found[0] for found in positions]
        )
        return compiler, sql, params, positions, layout, converters

    def all(self, *values, using: str = "default") -> list[Model]:
        if using not in self._compiled:
            self._compiled[using] = self._compile(using)
        if self._compiled[using] is None:
            return []
        compiler, sql, params, positions, layout, converters = self._compiled[using]
        (start, end), init_list, populators, annotations = layout
        params = list(params)
        for position, value in zip(positions, values, strict=True):
            params[position] = value
        connection = connections[using]
        with reading_cursor(connection) as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        if converters:
            fetched = [converted(row, converters, connection) for row in fetched]
        model = compiler.klass_info["model"]
        found = []
        for row in fetched:
            obj = model.from_db(using, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in annotations.items():
                setattr(obj, name, row[position])
            found.append(obj)
        return found

    def first(self, *values, using: str = "default") -> Model | None:
        found = self.all(*values, using=using)
        return found[0] if found else None


_PREPARED: dict[tuple, Prepared] = {}
PREPARED_KEPT = 4000


def prepared_for(key: Hashable, build, parameters: int = 1) -> Prepared:
    """The ``Prepared`` read for ``key``, made on first use: for a read whose shape depends on more than its
    parameters (the person whose subtree it is limited to), ``key`` naming all of that."""
    found = _PREPARED.get(key)
    if found is None:
        if len(_PREPARED) >= PREPARED_KEPT:
            _PREPARED.clear()
        found = _PREPARED[key] = Prepared(build, parameters)
    return found


# Two moments no query asks about, to compile a read at and tell the moment's own parameters apart.
_MARKS = (
    dt.datetime(2000, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC),
    dt.datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=dt.UTC),
)
_AT: dict[tuple, tuple] = {}
AT_KEPT = 4000
_NO_ROWS = ("a read that matches nothing by its shape",)


def values_at(
    key: Hashable, build: Callable[[dt.datetime], object], now: dt.datetime, using: str = "default"
):
    """The rows (tuples) of ``build(now)``, a ``values_list`` query, with its SQL compiled once per ``key``:
    later calls bind the new moment into that SQL and run it, without building the query again. ``key``
    must name everything else the query depends on (the person, a limit).

    The first call compiles at two moments; only the parameters that are those moments change, anything
    else that changes with them (a time computed from the moment, a different SQL) is refused, because it
    could not be bound again."""
    connection = connections[using]
    entry = _AT.get((key, using))
    if entry is None:
        compiled = []
        for mark in _MARKS:
            compiler = build(mark).query.get_compiler(using=using)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:  # ``none()``: no rows, at any moment, without asking
                _AT[(key, using)] = _NO_ROWS
                return []
            compiled.append((compiler, sql, list(params)))
        (compiler, sql, params), (_other, other_sql, other_params) = compiled
        marked = connection.ops.adapt_datetimefield_value(_MARKS[0])
        if sql != other_sql or len(params) != len(other_params):
            raise ValueError(f"{key!r}: the query's SQL changes with the moment, so it cannot be bound again")
        positions = [i for i, (one, two) in enumerate(zip(params, other_params, strict=True)) if one != two]
        if any(params[i] != marked for i in positions):
            raise ValueError(
                f"{key!r}: only the moment itself can be bound again, not values computed from it"
            )
        converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
        sql, params, positions = fixed_into_sql(connection, sql, params, positions)
        entry = (sql, params, positions, converters)
        if len(_AT) >= AT_KEPT:
            _AT.clear()
        _AT[(key, using)] = entry
    if entry is _NO_ROWS:
        return []
    sql, params, positions, converters = entry
    params = list(params)
    moment = connection.ops.adapt_datetimefield_value(now)
    for position in positions:
        params[position] = moment
    with reading_cursor(connection) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not converters:
        return rows
    return [tuple(converted(row, converters, connection)) for row in rows]


def values_names(query) -> list[str]:
    """A ``values()`` query's names in its columns' order. Django 5.2 selects them in the order ``values()``
    named them (``query.selected``), annotations among fields; earlier, extra, then fields, then annotations."""
    selected = getattr(query, "selected", None)
    if selected is not None:
        return list(selected)
    return [*query.extra_select, *query.values_select, *query.annotation_select]


def converted(values: Sequence, converters: dict, connection) -> list:
    """Values of one row as the ORM would give them, by ``converters`` (``compiler.get_converters`` of the
    compiled query) and the connection of the thread that read them, not the one that compiled."""
    values = list(values)
    for position, (functions, expression) in converters.items():
        for function in functions:
            values[position] = function(values[position], expression, connection)
    return values


# --- reads of a fixed shape with several values bound in --------------------------------------------------------
# Two sets of markers, one marker per value and type: a read is compiled with each set, and the parameters that
# differ between the two are where the values go (a constant of the query is the same in both, whatever it is).
# Integer markers fit every integer field, down to a small one: the ORM writes a comparison with a number its
# field cannot hold as no rows at all (or drops it) on PostgreSQL, and the value would never be bound.
_TEXT_MARK = "\u2063kangle-mark-{which}-{index}\u2063"
_INT_MARK = 20_000
_INT_MARKS_PER_SET = 1_000


def _marker(value, index: int, which: int):
    kind = type(value)
    # Beyond 64 bits the ORM writes other SQL, or none.
    if kind is int and -(2**63) <= value < 2**63 and index < _INT_MARKS_PER_SET:
        return _INT_MARK + which * _INT_MARKS_PER_SET + index
    if kind is str:
        return _TEXT_MARK.format(which=which, index=index)
    if kind is dt.datetime and value.tzinfo is not None:
        return _MARKS[which] + dt.timedelta(seconds=index)
    raise TypeError(f"no marker for a {kind.__name__}")


def _forms(marker, connection) -> tuple[tuple[str, object], ...]:
    """How a marker may reach the parameters: as itself, as text (an integer compared with a text column),
    or adapted as a moment."""
    if isinstance(marker, dt.datetime):
        return (("moment", connection.ops.adapt_datetimefield_value(marker)),)
    if isinstance(marker, int):
        return (("same", marker), ("text", str(marker)))
    return (("same", marker),)


class BoundRead:
    """One ``values()`` read compiled with markers; ``rows`` binds a request's values into its SQL."""

    def __init__(
        self,
        sql: str | None,
        params: list,
        slots: list,
        names: list,
        converters: dict,
        types: list[str] | None = None,
    ):
        self.sql, self.params, self.slots, self.names, self.converters = sql, params, slots, names, converters
        # Each column's database type, where known: what an empty column of this read is cast to when its
        # rows share a statement with other reads' (``rows_of_each``).
        self.types = types

    def _params(self, values: Sequence, connection) -> list:
        params = list(self.params)
        for position, index, form in self.slots:
            value = values[index]
            if form == "text":
                value = str(value)
            elif form == "moment":
                value = connection.ops.adapt_datetimefield_value(value)
            params[position] = value
        return params

    def rows(self, values: Sequence, using: str = "default") -> list[dict]:
        """The rows as ``values()`` gives them: dicts by field name, values converted as the ORM does."""
        if self.sql is None:
            return []
        connection = connections[using]
        with reading_cursor(connection) as cursor:
            cursor.execute(self.sql, self._params(values, connection))
            fetched = cursor.fetchall()
        return _as_dicts(fetched, self, connection)

    def count(self, values: Sequence, using: str = "default") -> int:
        """How many rows the read gives (a sliced read: at most its slice), counted by the database."""
        if self.sql is None:
            return 0
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({self.sql}) AS counted", self._params(values, connection))  # noqa: S608
            return cursor.fetchone()[0]


def _same_columns(asked: Sequence[tuple[BoundRead, Sequence]]) -> bool:
    """Whether the reads give the same columns, so their rows can come from one UNION ALL."""
    first = asked[0][0]
    return all(
        read.names == first.names and read.converters.keys() == first.converters.keys() for read, _v in asked
    )


def _union_of(asked: Sequence[tuple[BoundRead, Sequence]], connection) -> tuple[str, list]:
    """The reads' rows as one statement, and its parameters: each read keeps its own ORDER BY and LIMIT
    inside its subquery."""
    sql = " UNION ALL ".join(
        f"SELECT * FROM ({read.sql}) AS part{index}"  # noqa: S608 - the ORM's compiled SQL, values as parameters
        for index, (read, _v) in enumerate(asked)
    )
    return sql, [param for read, values in asked for param in read._params(values, connection)]


def _count_columns(asked: Sequence[tuple[BoundRead, Sequence]], connection) -> tuple[str, list]:
    """One column per read, how many rows it gives, and their parameters."""
    sql = ", ".join(
        f"(SELECT COUNT(*) FROM ({read.sql}) AS counted{index})"  # noqa: S608 - the ORM's compiled SQL
        for index, (read, _v) in enumerate(asked)
    )
    return sql, [param for read, values in asked for param in read._params(values, connection)]


def _as_dicts(fetched: list, read: BoundRead, connection) -> list[dict]:
    """Fetched rows as ``values()`` gives them: converted as the ORM does, by ``read``'s names."""
    if read.converters:
        fetched = [converted(row, read.converters, connection) for row in fetched]
    return [dict(zip(read.names, row, strict=False)) for row in fetched]


def rows_together(bound: Sequence[tuple[BoundRead, Sequence]], using: str = "default") -> list[dict]:
    """The rows of several reads of the same columns (a list's disjoint parts), each with its values, read
    with one statement: their SQL joined by UNION ALL, one round trip instead of one per read. The rows come
    in no set order; the caller orders them."""
    asked = [(read, values) for read, values in bound if read.sql is not None]
    if len(asked) <= 1:
        return asked[0][0].rows(asked[0][1], using) if asked else []
    if not _same_columns(asked):
        return [row for read, values in asked for row in read.rows(values, using)]
    connection = connections[using]
    sql, params = _union_of(asked, connection)
    with reading_cursor(connection) as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    return _as_dicts(fetched, asked[0][0], connection)


def counts_together(bound: Sequence[tuple[BoundRead, Sequence]], using: str = "default") -> list[int]:
    """How many rows each read gives (as ``BoundRead.count``), all counted by one statement."""
    asked = [(index, read, values) for index, (read, values) in enumerate(bound) if read.sql is not None]
    counts = [0] * len(bound)
    if not asked:
        return counts
    connection = connections[using]
    columns, params = _count_columns([(read, values) for _i, read, values in asked], connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + columns, params)
        found = cursor.fetchone()
    for (index, _read, _values), count in zip(asked, found, strict=True):
        counts[index] = count
    return counts


def rows_of_each(
    bound: Sequence[tuple[BoundRead, Sequence]], using: str = "default", *, together: bool | None = None
) -> list[list[dict]]:
    """The rows of several reads of any columns (a page's lists around one record), each with its values and
    in its own order, read with one statement: one round trip instead of one per read. ``together`` by
    default where a statement is a round trip to a server: on SQLite, a statement is a call within the
    process, and the reads run apart (joined, the sorting and numbering cost more than the calls saved).

    Each read has its own columns in the statement's row, the others' empty (cast to their types, so that
    PostgreSQL can match the UNION ALL's columns), after the read's number and each row's place in the read
    (``ROW_NUMBER() OVER ()`` over the read's own ordered rows); the statement is sorted on those two, so a
    read's rows keep its order however the database runs the parts."""
    found: list[list[dict]] = [[] for _ in bound]
    asked = [(index, read, values) for index, (read, values) in enumerate(bound) if read.sql is not None]
    connection = connections[using]
    if together is None:
        together = connection.vendor != "sqlite"
    if not together or len(asked) <= 1 or any(read.types is None for _index, read, _values in asked):
        for index, read, values in asked:
            found[index] = read.rows(values, using)
        return found
    empty = [f"CAST(NULL AS {kind})" for _index, read, _values in asked for kind in read.types]
    branches, params, start = [], [], 0
    for part, (_index, read, values) in enumerate(asked):
        end = start + len(read.types)
        columns = [*empty[:start], f'"each{part}".*', *empty[end:]]
        branches.append(
            f'SELECT {part} AS "part", ROW_NUMBER() OVER () AS "place", {", ".join(columns)} '  # noqa: S608
            f'FROM ({read.sql}) AS "each{part}"'
        )
        params += read._params(values, connection)
        start = end
    sql = f'SELECT * FROM ({" UNION ALL ".join(branches)}) AS "each" ORDER BY 1, 2'  # noqa: S608
    with reading_cursor(connection) as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    by_part: list[list] = [[] for _ in asked]
    for row in fetched:
        by_part[row[0]].append(row)
    start = 2
    for part, (index, read, _values) in enumerate(asked):
        end = start + len(read.types)
        found[index] = _as_dicts([row[start:end] for row in by_part[part]], read, connection)
        start = end
    return found


def rows_and_counts(
    rows: Sequence[tuple[BoundRead, Sequence]],
    counts: Sequence[tuple[BoundRead, Sequence]],
    using: str = "default",
) -> tuple[list[dict], list[int] | None] | None:
    """The rows of ``rows`` (as ``rows_together`` gives them, in no set order when there are several reads)
    and the counts of ``counts`` (as ``counts_together``), read with one statement: the counts ride along as
    the last columns of every row, one round trip instead of two. With no row the counts are not known (None):
    ask it for a list's first page, where no row means nothing to count. None when they cannot go together:
    the caller reads them apart.

    Only reads with every value written into their SQL go together (a list's default view). A statement with
    bound values may be planned anew on every run (PostgreSQL keeps a prepared statement's generic plan only
    when it looks as cheap as the plans made with the values): joined, the page's read, whose plan was kept,
    was planned again with the count's every time (a street's closed cases, 4.2 against 6.0 ms)."""
    asked = [(read, values) for read, values in rows if read.sql is not None]
    counted = [(read, values) for read, values in counts if read.sql is not None]
    if (
        not asked
        or not counted
        or len(counted) < len(counts)
        or any(read.slots for read, _values in (*asked, *counted))
        or not _same_columns(asked)
    ):
        return None
    connection = connections[using]
    # A single read's rows keep its order: the outer query only adds columns to a scan of the subquery (no
    # join, sort or grouping to reorder them), on PostgreSQL as on SQLite. They are not sorted again in
    # Python, whose order of text is not the database's collation.
    page, page_params = _union_of(asked, connection)
    totals, totals_params = _count_columns(counted, connection)
    with reading_cursor(connection) as cursor:
        cursor.execute(f'SELECT "page".*, {totals} FROM ({page}) AS "page"', [*totals_params, *page_params])  # noqa: S608
        fetched = cursor.fetchall()
        width = len(cursor.description) - len(counted)  # the rows' own columns, then the counts
    if not fetched:
        return [], None
    return _as_dicts([row[:width] for row in fetched], asked[0][0], connection), list(fetched[0][width:])


_BOUND: dict[tuple, list[BoundRead] | None] = {}
BOUND_KEPT = 4000
_UNCOMPILED = object()  # None is a compiled answer too: "cannot be bound"


def bound_reads(
    key: Hashable, build: Callable[..., Sequence], values: Sequence, using: str = "default"
) -> list[BoundRead] | None:
    """The reads ``build(*values)`` returns (``values()`` querysets), compiled once per ``key`` and the
    values' types, so a list's later requests bind their filters, cursor and moment into the same SQL instead
    of building and compiling its queries again (a millisecond or more per list request, more than the
    database takes to answer).

    ``key`` names everything else the reads depend on: the person, the page size, which filters are given.
    ``build`` must treat every value as an opaque parameter: a value that chooses a branch (``status="open"``
    meaning a set of statuses), that is looked up first, or that is transformed (``icontains``) belongs in
    ``key`` instead. The first call compiles at two sets of markers and refuses, with None, a read whose SQL
    changes with them or that uses a value other than as given; None too for values with no marker (only
    ``int``, ``str`` and aware ``datetime`` are bound). The caller then builds the reads with the ORM."""
    try:
        types = tuple(type(value) for value in values)
        marks = [[_marker(value, index, which) for index, value in enumerate(values)] for which in (0, 1)]
    except TypeError:
        return None
    cache_key = (key, types, using)
    # Read and kept in locals: another thread may clear the cache at any moment.
    compiled = _BOUND.get(cache_key, _UNCOMPILED)
    if compiled is not _UNCOMPILED:
        return compiled
    compiled = _compile_bound(build, marks, using)
    if len(_BOUND) >= BOUND_KEPT:
        _BOUND.clear()
    _BOUND[cache_key] = compiled
    return compiled


def bound_rows(key: Hashable, build: Callable[..., object], values: Sequence = ()) -> list[dict]:
    """The rows of the one ``values()`` read ``build(*values)``, compiled once per ``key`` as
    ``bound_reads`` does (through the ORM when it cannot be bound)."""
    reads = bound_reads(key, lambda *bound: [build(*bound)], values)
    return reads[0].rows(values) if reads is not None else list(build(*values))


def bound_rows_of_each(
    key: Hashable, build: Callable[..., Sequence], values: Sequence = ()
) -> list[list[dict]]:
    """The rows of each of the ``values()`` reads ``build(*values)``, compiled once per ``key`` as
    ``bound_reads`` does and read together (``rows_of_each``); through the ORM when they cannot be bound."""
    reads = bound_reads(key, build, values)
    if reads is None:
        return [list(rows) for rows in build(*values)]
    return rows_of_each([(read, values) for read in reads])


def bound_count(key: Hashable, build: Callable[..., object], values: Sequence = ()) -> int:
    """How many rows the ``values()`` read ``build(*values)`` gives, its SQL compiled once per ``key``."""
    reads = bound_reads(key, lambda *bound: [build(*bound)], values)
    return reads[0].count(values) if reads is not None else build(*values).count()


def bound_counts(key: Hashable, build: Callable[..., Sequence], values: Sequence = ()) -> list[int]:
    """How many rows each of the ``values()`` reads ``build(*values)`` gives, all counted by one statement
    (``counts_together``), their SQL compiled once per ``key``."""
    reads = bound_reads(key, build, values)
    if reads is None:
        return [read.count() for read in build(*values)]
    return counts_together([(read, values) for read in reads])


def bound_pairs(key: Hashable, build: Callable[[], object]) -> list[tuple]:
    """(value, label) pairs, for a drop-down, of the two-field ``values()`` read ``build()``, compiled
    once per ``key``."""
    return [tuple(row.values()) for row in bound_rows(key, build)]


def pairs_of_each(asked: Mapping[str, tuple[Hashable, Callable[[], object]]]) -> dict[str, list[tuple]]:
    """The (value, label) pairs of several drop-downs, by name: each ``(key, build)`` as ``bound_pairs``
    takes it, all read by one statement where a statement is a round trip (``rows_of_each``)."""
    compiled = {
        name: bound_reads(key, lambda build=build: [build()], ()) for name, (key, build) in asked.items()
    }
    joined = [name for name, reads in compiled.items() if reads is not None]
    found = dict(zip(joined, rows_of_each([(compiled[name][0], ()) for name in joined]), strict=True))
    return {
        name: [tuple(row.values()) for row in found[name]] if name in found else bound_pairs(key, build)
        for name, (key, build) in asked.items()
    }


def _compile_bound(build, marks: list[list], using: str) -> list[BoundRead] | None:
    connection = connections[using]
    try:
        built = [list(build(*marks[0])), list(build(*marks[1]))]
    except (TypeError, ValueError, ValidationError):
        return None  # a value of a type its field does not take: the ORM says so itself
    if len(built[0]) != len(built[1]):
        return None
    forms = [[_forms(mark, connection) for mark in which] for which in marks]
    reads = []
    for first, second in zip(*built, strict=True):
        if hasattr(first, "compose"):  # a read made of two (``core.grouped.InGroups``)
            read = _compile_composed(first, second, forms, connection, using)
        else:
            read = _compile_values(first, second, forms, connection, using)
        if read is None:
            return None
        reads.append(read)
    return reads


def _compile_composed(first, second, forms, connection, using: str) -> BoundRead | None:
    """A read whose SQL ``compose`` makes of its ``parts()``' compiled SQL, their values bound in order."""
    compiled = [
        _compile_values(one, two, forms, connection, using)
        for one, two in zip(first.parts(), second.parts(), strict=True)
    ]
    if any(read is None for read in compiled):
        return None
    groups, rows = compiled
    if groups.sql is None or rows.sql is None:
        return BoundRead(None, [], [], [], {})
    sql = first.compose(groups.sql, rows.sql, rows.names, connection)
    if sql != second.compose(groups.sql, rows.sql, rows.names, connection):
        return None
    shift = len(groups.params)
    slots = [*groups.slots, *((position + shift, index, form) for position, index, form in rows.slots)]
    converters = first.converters(rows.converters, rows.names, using)
    return BoundRead(sql, [*groups.params, *rows.params], slots, first.names(rows.names), converters)


def _compile_values(first, second, forms, connection, using: str) -> BoundRead | None:
    """One ``values()`` read compiled at the two sets of markers (``first``, ``second``), its values' places
    found by where the two differ; None when it cannot be bound."""
    from django.db.models.query import ValuesIterable

    if first._iterable_class is not ValuesIterable:
        raise TypeError("bound_reads reads values() querysets only")
    try:
        compiler = first.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        other_sql, other_params = second.query.get_compiler(using=using).as_sql()
    except EmptyResultSet:
        return BoundRead(None, [], [], [], {})  # ``none()``: no rows, without asking
    except (TypeError, ValueError):
        return None
    if sql != other_sql or len(params) != len(other_params):
        return None
    slots = []
    for position, (one, two) in enumerate(zip(params, other_params, strict=True)):
        if one == two:
            continue
        slot = next(
            (
                (position, index, form)
                for index, (ones, twos) in enumerate(zip(forms[0], forms[1], strict=True))
                for (form, mark), (_f, other) in zip(ones, twos, strict=True)
                if one == mark and two == other
            ),
            None,
        )
        if slot is None:
            return None  # a value changed on its way into the SQL: it cannot be bound again
        slots.append(slot)
    sql, params, moved = fixed_into_sql(connection, sql, params, [slot[0] for slot in slots])
    slots = [(position, *slot[1:]) for position, slot in zip(moved, slots, strict=True)]
    query = first.query
    names = values_names(query)
    columns = [column for column, _sql, _alias in compiler.select]
    converters = compiler.get_converters(columns)
    types = [column.output_field.db_type(connection) for column in columns]
    return BoundRead(sql, list(params), slots, names, converters, None if None in types else types)
