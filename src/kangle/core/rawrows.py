"""Model instances from a hand-written SELECT, converted exactly as the ORM converts them.

For the few queries every request runs (the session with its user, a bearer token with its user) the ORM's
work of building and compiling the query costs more than the database does: about a millisecond each on
SQLite, several times the query itself. Those queries are written once as SQL; ``ModelColumns`` lists a
model's columns for them and turns the fetched values back into an instance with the backend's and the
fields' own converters (SQLite's text datetimes, JSON, encrypted columns), so callers see the same objects
the ORM would give.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections
from django.db.models import Model


class ModelColumns:
    """The concrete columns of ``model`` under the table alias ``alias``."""

    def __init__(self, model: type[Model], alias: str):
        self.model = model
        self.alias = alias
        self.fields = tuple(model._meta.concrete_fields)
        self.attnames = [field.attname for field in self.fields]
        self._converters: dict[str, list] = {}

    def __len__(self) -> int:
        return len(self.fields)

    def select(self, using: str = "default") -> str:
        quote = connections[using].ops.quote_name
        return ", ".join(f"{self.alias}.{quote(field.column)}" for field in self.fields)

    def _converters_for(self, using: str) -> list:
        """Per column: (converters, expression), as the SQL compiler collects them (kept per database)."""
        if using not in self._converters:
            connection = connections[using]
            found = []
            for field in self.fields:
                column = field.get_col(self.alias)
                found.append(
                    (connection.ops.get_db_converters(column) + column.get_db_converters(connection), column)
                )
            self._converters[using] = found
        return self._converters[using]

    def build(self, values: Sequence, using: str = "default") -> Model | None:
        """The instance for one row's slice of values; None when the row has no such object (an outer
        join that found nothing leaves the primary key NULL)."""
        connection = connections[using]
        converted = []
        for value, (converters, expression) in zip(values, self._converters_for(using), strict=True):
            for converter in converters:
                value = converter(value, expression, connection)
            converted.append(value)
        if converted[self.attnames.index(self.model._meta.pk.attname)] is None:
            return None
        return self.model.from_db(using, self.attnames, converted)
