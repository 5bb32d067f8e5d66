"""The shared field cleaners: one place that turns what a person typed into a typed value or a ``UserError``
naming the field.

Forms (pages) and schemas (API) parse at the edge; services call these for the rules a request cannot be
trusted with (length, range, choices), so the page, the API and an import all refuse the same input with
the same words. ``label`` is a lazy translated name ("Title") that the message renders in the reader's
language::

    title = cleaners.text(title, field="title", label=_("Title"), max_length=100)
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from kangle.core.errors import UserError
from kangle.core.text import is_mobile, normalise_phone, normalise_text


def text(value, *, field: str, label, max_length: int, required: bool = True, multiline: bool = False) -> str:
    """Folded (full-width → half-width) and trimmed; ``multiline`` keeps line breaks (descriptions, notes)."""
    cleaned = ("" if value is None else str(value)).strip() if multiline else normalise_text(value)
    if required and not cleaned:
        raise UserError(f"blank_{field}", _("%(label)s is required"), field=field, label=label)
    if len(cleaned) > max_length:
        raise UserError(
            f"long_{field}",
            _("%(label)s must be at most %(max_length)d characters"),
            field=field,
            label=label,
            max_length=max_length,
        )
    return cleaned


def whole_number(value, *, field: str, label, low: int | None = None, high: int | None = None) -> int:
    try:
        number = int(normalise_text(value) if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise UserError(
            f"invalid_{field}", _("%(label)s must be a whole number"), field=field, label=label
        ) from None
    if (low is not None and number < low) or (high is not None and number > high):
        if high is None:
            raise UserError(
                f"invalid_{field}", _("%(label)s must be at least %(low)d"), field=field, label=label, low=low
            )
        if low is None:
            raise UserError(
                f"invalid_{field}",
                _("%(label)s must be at most %(high)d"),
                field=field,
                label=label,
                high=high,
            )
        raise UserError(
            f"invalid_{field}",
            _("%(label)s must be between %(low)d and %(high)d"),
            field=field,
            label=label,
            low=low,
            high=high,
        )
    return number


def choice(value, *, field: str, label, choices) -> str:
    """One of ``choices`` (a Django ``TextChoices`` class or an iterable of values)."""
    allowed = getattr(choices, "values", choices)
    if value not in allowed:
        raise UserError(
            f"invalid_{field}", _("%(label)s is not one of the choices"), field=field, label=label
        )
    return value


def date(value, *, field: str, label, required: bool = True) -> dt.date | None:
    """A ``date``, or an ISO ``YYYY-MM-DD`` string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = normalise_text(value)
    if not raw:
        if required:
            raise UserError(f"blank_{field}", _("%(label)s is required"), field=field, label=label)
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise UserError(
            f"invalid_{field}", _("%(label)s must be a date such as 2026-05-01"), field=field, label=label
        ) from None


def aware_datetime(value, *, field: str, label, required: bool = True) -> dt.datetime | None:
    if value is None or value == "":
        if required:
            raise UserError(f"blank_{field}", _("%(label)s is required"), field=field, label=label)
        return None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise UserError(
            f"invalid_{field}",
            _("%(label)s must be a date and time with a time zone"),
            field=field,
            label=label,
        )
    return value


def http_url(value, *, field: str, label, max_length: int = 1000) -> str:
    """An http(s) address, or "" when none was given."""
    url = normalise_text(value)
    if not url:
        return ""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        url = ""
    if not url or len(url) > max_length:
        raise UserError(
            f"invalid_{field}",
            _(
                "%(label)s must be an address starting with http:// or https:// (at most %(max_length)d characters)"
            ),
            field=field,
            label=label,
            max_length=max_length,
        )
    return url


def mobile(value, *, field: str, label, required: bool = True) -> str:
    """An 11-digit mainland mobile number (+86 and spaces removed), or "" when optional and empty."""
    phone = normalise_phone(value)
    if not phone and not required:
        return ""
    if not is_mobile(phone):
        raise UserError(
            f"invalid_{field}", _("%(label)s must be an 11-digit mobile number"), field=field, label=label
        )
    return phone
