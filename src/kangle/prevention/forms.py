"""The prevention pages' forms: what a POST carries, parsed at the edge.

Text fields pass through as typed (the services clean them with ``kangle.core.cleaners``, so the page, the
API and the phone refuse the same input with the same words); dates, times and checkboxes are parsed here.
A refusal is the services' ``UserError`` (Chinese first, English too, naming the field), raised by
``parsed()``, so a page handles a bad date and a refused service call the same way.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kangle.core import cleaners
from kangle.core.errors import UserError
from kangle.prevention.models import TeamRole


def _text(required: bool = False) -> forms.CharField:
    return forms.CharField(required=required, strip=False)


class PageForm(forms.Form):
    def parsed(self) -> dict:
        """The cleaned values; a refusal raises the ``UserError`` a ``clean_<field>`` method gave."""
        self.is_valid()
        return self.cleaned_data


class PointForm(PageForm):
    org = _text()
    code = _text()
    name = _text()
    latitude = _text()
    longitude = _text()
    place_type = _text()
    device_type = _text()
    bait_type = _text()
    installed_on = _text()
    note = _text()

    def clean_installed_on(self):
        return cleaners.date(
            self.cleaned_data["installed_on"], field="installed_on", label=_("Installed on"), required=False
        )

    def clean_latitude(self):
        return self.cleaned_data["latitude"] or None

    def clean_longitude(self):
        return self.cleaned_data["longitude"] or None


class RoundForm(PageForm):
    org = _text()
    name = _text()


class WarningForm(PageForm):
    case_number = forms.CharField(required=False)
    org = _text()
    place_type = _text()
    latitude = _text()
    longitude = _text()
    description = _text()

    def clean_latitude(self):
        return self.cleaned_data["latitude"] or None

    def clean_longitude(self):
        return self.cleaned_data["longitude"] or None


class CampaignForm(PageForm):
    org = _text()
    name = _text()
    starts_on = _text()
    ends_on = _text()
    contractor = forms.CharField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for role in TeamRole.values:
            self.fields[f"team_{role}"] = _text()

    def clean_starts_on(self):
        return cleaners.date(
            self.cleaned_data["starts_on"], field="starts_on", label=_("Start date"), required=False
        )

    def clean_ends_on(self):
        return cleaners.date(
            self.cleaned_data["ends_on"], field="ends_on", label=_("End date"), required=False
        )

    def team(self) -> list[tuple[str, str]]:
        """(role, organisation) for every team role filled in."""
        return [
            (role, self.cleaned_data[f"team_{role}"])
            for role in TeamRole.values
            if self.cleaned_data[f"team_{role}"].strip()
        ]


class ReadingForm(PageForm):
    point = _text()
    activity_found = forms.BooleanField(required=False)
    bait_consumed_pct = _text()
    note = _text()
    open_case = forms.BooleanField(required=False)


class FindingForm(PageForm):
    unit = _text()
    description = _text()
    place_type = _text()
    nest_found = forms.BooleanField(required=False)
    treated_on_spot = forms.BooleanField(required=False)
    technician = _text()
    note = _text()


class SprayingForm(PageForm):
    unit = _text()
    sprayed_at = _text()
    agent = _text()
    note = _text()

    def clean_sprayed_at(self) -> dt.datetime | None:
        """A local date and time from the page (``2026-06-01T09:30``), made aware."""
        value = self.cleaned_data["sprayed_at"].strip()
        if not value:
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise UserError(
                "invalid_sprayed_at", _("The spraying time is malformed"), field="sprayed_at"
            ) from None
        return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


class NextForm(PageForm):
    next = forms.CharField(required=False)
