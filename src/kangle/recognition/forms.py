"""The forms of the recognition pages: what a person typed, parsed into the typed arguments the services take."""

from __future__ import annotations

from django import forms

from kangle.points.forms import yes_no

LETTER_ACTIONS = ("save", "issue", "send")
NOMINATION_ACTIONS = ("nominate", "approve", "reject", "result")


class MemberChoiceForm(forms.Form):
    """The member picker's choice (scope is checked by the page: anyone outside is a 404)."""

    member = forms.IntegerField(min_value=1)


class LetterForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in LETTER_ACTIONS])
    body = forms.CharField(required=False)


class NominateForm(MemberChoiceForm):
    honour = forms.CharField(max_length=30, required=False)
    honour_name = forms.CharField(max_length=100, required=False)
    reason = forms.CharField(required=False)


class NominationStepForm(forms.Form):
    """A review (approve / reject with a comment) or the result of a nomination."""

    action = forms.ChoiceField(choices=[(a, a) for a in NOMINATION_ACTIONS])
    nomination = forms.IntegerField(min_value=1)
    honoured = yes_no()
    result = forms.CharField(required=False)
    comment = forms.CharField(required=False)


class PublishForm(forms.Form):
    publish = yes_no()
