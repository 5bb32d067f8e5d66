"""``rawrows.reading_cursor``: moments read through it are the ORM's, to the microsecond and in the same zone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from kangle.core.audit import record
from kangle.core.models import AuditEvent
from kangle.core.rawrows import reading_cursor

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2026, 11, 30, 13, 45, 12, 345678, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),  # a Shanghai midnight
        dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
    ],
)
def test_moments_read_through_it_are_the_orms(personas, moment):
    record(actor=personas.street_admin, verb="probe.read", obj=personas.street_admin, details={}, now=moment)
    orm = AuditEvent.objects.filter(verb="probe.read").values_list("at", flat=True).get()
    with reading_cursor(connection) as cursor:
        cursor.execute(f"SELECT at FROM {AuditEvent._meta.db_table} WHERE verb = %s", ["probe.read"])  # noqa: S608
        (raw,) = cursor.fetchone()
    if connection.vendor == "sqlite":  # SQLite hands back text; the ORM's converters make the moment
        raw = connection.ops.convert_datetimefield_value(raw, None, connection)
    assert raw == orm == moment
    assert raw.utcoffset() == orm.utcoffset() == dt.timedelta(0)
    assert type(raw.tzinfo) is type(orm.tzinfo)
