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
from kangle.core.forms import PassThroughText
from kangle.prevention.models import TeamRole


class PageForm(forms.Form):
    def parsed(self) -> dict:
        """The cleaned values; a refusal raises the ``UserError`` a ``clean_<field>`` method gave."""
        self.is_valid()
        return self.cleaned_data


class PointForm(PageForm):
    org = PassThroughText()
    code = PassThroughText()
    name = PassThroughText()
    latitude = PassThroughText()
    longitude = PassThroughText()
    place_type = PassThroughText()
    device_type = PassThroughText()
    bait_type = PassThroughText()
    installed_on = PassThroughText()
    note = PassThroughText()

    def clean_installed_on(self):
        return cleaners.date(
            self.cleaned_data["installed_on"], field="installed_on", label=_("Installed on"), required=False
        )

    def clean_latitude(self):
        return self.cleaned_data["latitude"] or None

    def clean_longitude(self):
        return self.cleaned_data["longitude"] or None


class RoundForm(PageForm):
    org = PassThroughText()
    name = PassThroughText()


class WarningForm(PageForm):
    case_number = forms.CharField(required=False)
    org = PassThroughText()
    place_type = PassThroughText()
    latitude = PassThroughText()
    longitude = PassThroughText()
    description = PassThroughText()

    def clean_latitude(self):
        return self.cleaned_data["latitude"] or None

    def clean_longitude(self):
        return self.cleaned_data["longitude"] or None


class CampaignForm(PageForm):
    org = PassThroughText()
    name = PassThroughText()
    starts_on = PassThroughText()
    ends_on = PassThroughText()
    contractor = forms.CharField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for role in TeamRole.values:
            self.fields[f"team_{role}"] = PassThroughText()

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
    point = PassThroughText()
    activity_found = forms.BooleanField(required=False)
    bait_consumed_pct = PassThroughText()
    note = PassThroughText()
    open_case = forms.BooleanField(required=False)


class FindingForm(PageForm):
    unit = PassThroughText()
    description = PassThroughText()
    place_type = PassThroughText()
    nest_found = forms.BooleanField(required=False)
    treated_on_spot = forms.BooleanField(required=False)
    technician = PassThroughText()
    note = PassThroughText()


class SprayingForm(PageForm):
    unit = PassThroughText()
    sprayed_at = PassThroughText()
    agent = PassThroughText()
    note = PassThroughText()

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
