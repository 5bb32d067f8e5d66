"""JSON for the API rendered with orjson: the same documents as ninja's encoder, several times faster.

Datetimes are written as Django's encoder writes them (millisecond precision, "Z" for UTC), and decimals,
lazy strings and the rest orjson does not know are handed to ninja's own encoder, so their text is
unchanged; everything else orjson writes itself, as UTF-8.
"""

from __future__ import annotations

import datetime as dt

import orjson
from django.http import HttpResponse
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder

_fallback = NinjaJSONEncoder()


def _default(value):
    """A value orjson leaves to us, as ninja's encoder writes it. A moment is written here as Django's encoder
    writes it (milliseconds, "Z" for UTC) without the two encoders' chain of type tests: a case list page
    holds 250 of them. A moment in UTC (as the database gives them) or without a zone is written by orjson
    (microseconds, "Z" for UTC) in a fifth of the time ``isoformat`` takes on an aware moment; the
    microseconds are then cut to milliseconds as Django cuts them. Other zones keep ``isoformat``, whose
    offsets orjson would round to the minute."""
    if type(value) is dt.datetime:
        if value.tzinfo is dt.UTC or value.tzinfo is None:
            text = orjson.dumps(value, option=orjson.OPT_UTC_Z).decode()[1:-1]
        else:
            text = value.isoformat()
            text = text[:-6] + "Z" if text.endswith("+00:00") else text
        return text[:23] + text[26:] if value.microsecond else text
    return _fallback.default(value)


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request, data, *, response_status: int) -> bytes:
        return orjson.dumps(
            data, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
        )


_renderer = ORJSONRenderer()


def trusted_json(request, data, *, status: int = 200) -> HttpResponse:
    """``data`` as the API's JSON response, without validating it against the operation's response schema.

    For read endpoints whose rows are built by our own code from typed columns, key for key as the schema
    documents them (tests compare each such endpoint's output with its schema): ninja would otherwise
    build a pydantic model per row only to dump it again. The OpenAPI document still shows the schema."""
    content = _renderer.render(request, data, response_status=status)
    return HttpResponse(
        content, status=status, content_type=f"{_renderer.media_type}; charset={_renderer.charset}"
    )
