"""SQL the ORM would otherwise rebuild on every call, for the paths that run it most.

For the queries every request runs (the session or a bearer token with its user, a case by its number, a
check-in's reads) the ORM's work of building and compiling the query costs more than the database does:
about a millisecond each, several times the query itself. ``Prepared`` compiles such a read once and binds
new values into it; ``insert_one`` writes a row with an INSERT written once; ``rows_table`` and
``insert_rows`` pass a page of thousands of rows as one parameter instead of a placeholder per value.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from django.db import connections, router
from django.db.models import Model


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
    for start in range(0, len(rows), 5000):
        prepared = [
            [field.get_db_prep_save(value, connection) for field, value in zip(varying, row, strict=True)]
            for row in rows[start : start + 5000]
        ]
        table, params = rows_table(spec, prepared, using)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({targets}) SELECT {picks} FROM ({table}) AS page",  # noqa: S608
                [*fixed_values, *params],
            )
    return len(rows)


_INSERTS: dict[tuple[type[Model], str], tuple[str, list]] = {}


def insert_one(obj: Model) -> Model:
    """Insert one new instance, as ``save()`` does for a new row, with its SQL written once per model and
    database instead of compiled by the ORM on every call; the primary key comes back through
    ``RETURNING``. No signals are sent: for rows written on every request (audit events), which have no
    receivers."""
    model = type(obj)
    using = router.db_for_write(model)
    connection = connections[using]
    key = (model, using)
    if key not in _INSERTS:
        quote = connection.ops.quote_name
        fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        columns = ", ".join(quote(field.column) for field in fields)
        marks = ", ".join(["%s"] * len(fields))
        pk = quote(model._meta.pk.column)
        sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks}) RETURNING {pk}"  # noqa: S608
        _INSERTS[key] = (sql, fields)
    sql, fields = _INSERTS[key]
    values = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = using
    return obj


class Prepared:
    """A read of fixed shape whose parameters change per request (a row by its key, say): the ORM builds and
    compiles it once per database, later calls bind new values into that SQL and build the instances the
    way a queryset does (``select_related`` and ``only`` included).

    ``build`` takes one marker per parameter and returns the queryset; each marker (an integer, or its digits
    as text for a text column) must reach the SQL unchanged and exactly once, which the first call checks.
    Calls may come from several threads: the compiled query is only read after it is made."""

    _markers = (8_765_432_109_001, 8_765_432_109_002, 8_765_432_109_003)

    def __init__(self, build, parameters: int = 1):
        self.build = build
        self.parameters = parameters
        self._compiled: dict[str, tuple] = {}

    def _compile(self, using: str) -> tuple:
        from django.db.models.query import get_related_populators

        markers = self._markers[: self.parameters]
        queryset = self.build(*markers)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
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
        return compiler, sql, list(params), [found[0] for found in positions], layout

    def all(self, *values, using: str = "default") -> list[Model]:
        if using not in self._compiled:
            self._compiled[using] = self._compile(using)
        compiler, sql, params, positions, layout = self._compiled[using]
        (start, end), init_list, populators, annotations = layout
        params = list(params)
        for position, value in zip(positions, values, strict=True):
            params[position] = value
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        model = compiler.klass_info["model"]
        found = []
        for row in compiler.results_iter(results=[fetched]):
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
