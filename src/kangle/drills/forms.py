"""The drill pages' forms: what a POST carries, parsed at the edge.

Text passes through as typed (the services clean it with ``kangle.core.cleaners``); times and dates are
parsed here. A malformed value raises the same ``UserError`` as a refused service call (Chinese first,
English too, naming the field), from ``parsed()``.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kangle.core import cleaners
from kangle.core.errors import UserError
from kangle.drills.services import TIMINGS


def local_moment(value: str, field: str) -> dt.datetime | None:
    """A local date and time from a page (``2026-06-01T09:30``), made aware; None when empty."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"invalid_{field}", _("Malformed time"), field=field) from None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


class PageForm(forms.Form):
    def parsed(self) -> dict:
        """The cleaned values; a malformed one raises the ``UserError`` its ``clean_<field>`` gave."""
        self.is_valid()
        return self.cleaned_data


class TimingsForm(PageForm):
    """The four moments of a drill, in their only possible order."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field, name in TIMINGS:
            self.fields[field] = forms.CharField(required=False, label=name)

    def clean(self):
        data = super().clean()
        return {field: local_moment(data.get(field, ""), field) for field, _name in TIMINGS}


class FindingForm(PageForm):
    """A finding and (optionally) one follow-up action with its owner and due date."""

    text = forms.CharField(required=False, strip=False)
    action = forms.CharField(required=False, strip=False)
    owner = forms.CharField(required=False, strip=False)
    due_on = forms.CharField(required=False)

    def clean_due_on(self):
        return cleaners.date(self.cleaned_data["due_on"], field="due_on", label=_("Due by"), required=False)

    def follow_ups(self) -> list[tuple[str, str, dt.date | None]]:
        data = self.cleaned_data
        return [(data["action"], data["owner"], data["due_on"])] if data["action"].strip() else []


class CareHomeForm(PageForm):
    """A care-home venue and its residents by mobility (the service checks each count)."""

    venue = forms.CharField(required=False)
    walks = forms.CharField(required=False)
    needs_help = forms.CharField(required=False)
    wheelchair = forms.CharField(required=False)
    stretcher = forms.CharField(required=False)

    def clean_venue(self) -> int:
        return cleaners.whole_number(self.cleaned_data["venue"], field="venue", label=_("Care home"), low=1)
