"""The forms of the case pages: each POST is parsed here into typed values before a service sees it.

Fields are lenient where the service owns the rule (required text, lengths, phone shape), so the page and
the API refuse the same input with the same message naming the field; what only the page can get wrong
(a malformed number or time) is refused here, naming the field.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kangle.core.errors import UserError
from kangle.core.forms import PassThroughText


class CaseReportForm(forms.Form):
    """The desk's intake page and the resident's report page (the resident's channel is always online)."""

    category = PassThroughText()
    org = PassThroughText()
    channel = PassThroughText()
    title = PassThroughText()
    description = PassThroughText()
    resident_name = PassThroughText()
    phone = PassThroughText()
    address = PassThroughText()
    confirm_duplicate = forms.BooleanField(required=False)


class CaseActionForm(forms.Form):
    """Every step button on the desk and contractor pages posts some of these fields."""

    version = forms.IntegerField(required=False)
    contractor = forms.IntegerField(required=False, min_value=1)
    slot_start = PassThroughText()
    slot_end = PassThroughText()
    note = PassThroughText()
    reason = PassThroughText()
    early_reason = PassThroughText()
    step = PassThroughText()
    milestone = PassThroughText()
    hours = forms.IntegerField(required=False)

    def moment(self, name: str) -> dt.datetime | None:
        """``slot_start`` / ``slot_end`` as an aware time (a local ``datetime-local`` value), None when empty."""
        raw = (self.cleaned_data.get(name) or "").strip()
        if not raw:
            return None
        try:
            parsed = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise UserError(f"invalid_{name}", _("Malformed date and time"), field=name) from None
        return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


class FeedbackForm(forms.Form):
    satisfied = forms.TypedChoiceField(
        choices=(("yes", "yes"), ("no", "no")), coerce=lambda value: value == "yes", required=False
    )
    rating = forms.IntegerField(required=False)
    comment = PassThroughText()


class TrackForm(forms.Form):
    number = forms.CharField(required=False)
    suffix = forms.CharField(required=False)

    def case_number(self) -> str:
        return (self.cleaned_data.get("number") or "").strip().upper()[:20] if self.is_valid() else ""
