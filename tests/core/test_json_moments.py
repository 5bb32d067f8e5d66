"""The API's JSON writes every moment as ninja's (Django's) encoder does: milliseconds, "Z" for UTC, the
offset otherwise; and leaves every other type to that encoder."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import zoneinfo

from ninja.responses import NinjaJSONEncoder

from kangle.core.renderers import ORJSONRenderer

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


class _Fixed(dt.tzinfo):
    """A zone of its own making (no ``zoneinfo``, no ``datetime.timezone``)."""

    def __init__(self, offset: dt.timedelta = dt.timedelta(minutes=345)):
        self.offset = offset

    def utcoffset(self, _moment):
        return self.offset

    def dst(self, _moment):
        return dt.timedelta(0)


def test_moments_and_other_values_are_written_as_ninjas_encoder_writes_them():
    values = [
        dt.datetime(2026, 6, 20, 4, 5, tzinfo=dt.UTC),
        dt.datetime(2026, 6, 20, 4, 5, 6, 789123, tzinfo=dt.UTC),
        dt.datetime(2026, 6, 20, 12, 5, 6, 1000, tzinfo=SHANGHAI),
        dt.datetime(2026, 6, 20, 12, 5, tzinfo=dt.timezone(dt.timedelta(hours=-3, minutes=-30))),
        dt.datetime(2026, 6, 20, 12, 5, 6, 999999),  # naive
        dt.datetime(2026, 6, 20, 4, 5, 6, 500, tzinfo=dt.UTC),  # under a millisecond
        dt.datetime(2026, 6, 20, 4, 5, 6, 250000, tzinfo=_Fixed()),  # a zone of its own
        dt.datetime(2026, 6, 20, 4, 5, tzinfo=_Fixed(dt.timedelta(0))),
        dt.datetime(2026, 6, 20, 4, 5, 6, 7, tzinfo=_Fixed(dt.timedelta(hours=5, minutes=45, seconds=30))),
        dt.datetime(1900, 6, 20, 4, 5, tzinfo=SHANGHAI),  # local mean time: an offset with seconds
        dt.datetime(2026, 6, 20, 4, 5, 6, 999000, tzinfo=zoneinfo.ZoneInfo("UTC")),
        dt.date(2026, 6, 20),
        dt.timedelta(hours=49, minutes=3),
        decimal.Decimal("4.50"),
    ]
    written = json.loads(ORJSONRenderer().render(None, {"values": values}, response_status=200))
    expected = json.loads(json.dumps({"values": values}, cls=NinjaJSONEncoder))
    assert written == expected
    assert written["values"][:2] == ["2026-06-20T04:05:00Z", "2026-06-20T04:05:06.789Z"]
