"""Forms of the activity pages. They parse; the services validate and name the field."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kangle.members.models import Skill
from kangle.orgs.models import OrgKind, OrgUnit, Venue
from kangle.orgs.scope import scope_queryset
from kangle.posts.models import ServiceAspect

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ActivityForm(forms.Form):
    title = forms.CharField(label=_("Activity title"), max_length=100)
    theme = forms.CharField(label=_("Theme"), max_length=50, required=False)
    aspect = forms.ModelChoiceField(label=_("Aspect"), queryset=ServiceAspect.objects.filter(is_active=True))
    org = forms.ModelChoiceField(label=_("Organiser"), queryset=OrgUnit.objects.none())
    venue = forms.ModelChoiceField(label=_("Venue"), queryset=Venue.objects.none(), required=False)
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DATETIME)
    ends_at = forms.DateTimeField(label=_("Ends"), widget=DATETIME)
    capacity = forms.IntegerField(label=_("Capacity"))
    signup_opens_at = forms.DateTimeField(
        label=_("Sign-up opens for everyone"),
        widget=DATETIME,
        required=False,
        help_text=_(
            "Leave empty to open at once; the street's early sign-up benefits open it earlier for some."
        ),
    )
    difficulty = forms.IntegerField(label=_("Difficulty (1–5)"), initial=1)
    description = forms.CharField(
        label=_("About the activity"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        units = scope_queryset(
            actor, OrgUnit.objects.filter(kind__in=[OrgKind.STREET, OrgKind.AREA, OrgKind.COMMUNITY]), "path"
        )
        self.fields["org"].queryset = units
        self.fields["venue"].queryset = scope_queryset(actor, Venue.objects.filter(is_active=True))


class CallForm(forms.Form):
    title = forms.CharField(label=_("What is needed"), max_length=100)
    org = forms.ModelChoiceField(label=_("Unit"), queryset=OrgUnit.objects.none())
    place = forms.CharField(label=_("Where"), max_length=200)
    starts_at = forms.DateTimeField(label=_("When"), widget=DATETIME)
    ends_at = forms.DateTimeField(label=_("Until"), widget=DATETIME)
    people_needed = forms.IntegerField(label=_("People needed"))
    deadline = forms.DateTimeField(label=_("Answer by"), widget=DATETIME)
    grids = forms.ModelMultipleChoiceField(
        label=_("Grids"), queryset=OrgUnit.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    skills = forms.ModelMultipleChoiceField(
        label=_("Skills"),
        queryset=Skill.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(
        label=_("Details"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = scope_queryset(
            actor,
            OrgUnit.objects.filter(kind__in=[OrgKind.COMMUNITY, OrgKind.GRID, OrgKind.MICROGRID]),
            "path",
        )
        self.fields["grids"].queryset = scope_queryset(
            actor, OrgUnit.objects.filter(kind=OrgKind.GRID), "path"
        )


class SelfReportForm(forms.Form):
    title = forms.CharField(label=_("What did you do"), max_length=100)
    aspect = forms.ModelChoiceField(label=_("Aspect"), queryset=ServiceAspect.objects.filter(is_active=True))
    started_at = forms.DateTimeField(label=_("When"), widget=DATETIME)
    hours = forms.DecimalField(label=_("Hours"), max_digits=5, decimal_places=1, min_value=0)
    beneficiaries = forms.IntegerField(label=_("Residents served"), required=False, min_value=0)
    photo = forms.FileField(label=_("Photo"), required=False)


class StaffRecordForm(forms.Form):
    member = forms.IntegerField(label=_("Member number"))
    title = forms.CharField(label=_("What was done"), max_length=100)
    aspect = forms.ModelChoiceField(label=_("Aspect"), queryset=ServiceAspect.objects.filter(is_active=True))
    started_at = forms.DateTimeField(label=_("When"), widget=DATETIME)
    hours = forms.DecimalField(label=_("Hours"), max_digits=5, decimal_places=1, min_value=0)
    beneficiaries = forms.IntegerField(label=_("Residents served"), required=False, min_value=0)
    difficulty = forms.IntegerField(label=_("Difficulty (1–5)"), initial=1)


# --- the small POSTs of the pages (buttons with a few fields) --------------------------------------------
class IdsField(forms.Field):
    """A list of row ids from repeated inputs (``member=1&member=2``); anything that is not a number is an
    error naming the field."""

    widget = forms.SelectMultiple
    default_error_messages = {"invalid": _("Choose from the list.")}

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        try:
            return [int(item) for item in value]
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class CountForm(forms.Form):
    count = forms.IntegerField(label=_("Beneficiaries"))


class AttendeeForm(forms.Form):
    member = forms.IntegerField(label=_("Member number"))


class ReasonForm(forms.Form):
    # Required and length are the service's rules (the same words on the page and in the API).
    reason = forms.CharField(label=_("Reason"), required=False)


class PhoneSignupForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("signup", "signup"), ("family", "family"), ("cancel", "cancel")], required=False
    )
    household_member = forms.IntegerField(required=False)


class ScanForm(forms.Form):
    t = forms.CharField(required=False)


class CallActionForm(forms.Form):
    action = forms.ChoiceField(choices=[("close", "close"), ("group", "group"), ("present", "present")])
    outcome = forms.CharField(label=_("Outcome"), required=False)
    member = IdsField(label=_("Members"), required=False)
    response = forms.IntegerField(required=False)


class SessionActionForm(forms.Form):
    session = forms.IntegerField()
    action = forms.ChoiceField(choices=[("in", "in"), ("out", "out")], required=False)


class PartyOrgForm(forms.Form):
    party_org = forms.IntegerField(required=False)


class NamesForm(forms.Form):
    names = forms.CharField(label=_("Names, one per line"), required=False, widget=forms.Textarea)


class MembersForm(forms.Form):
    member = IdsField(label=_("Members"), required=False)


class RecordDecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[("verify", "verify"), ("reject", "reject")], required=False)
    reason = forms.CharField(label=_("Reason"), required=False)
    status = forms.CharField(required=False)


def form_errors_text(form) -> str:
    """A refused form's errors as one line for a page message (field label first)."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields and form.fields[name].label else ""
        parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return "; ".join(parts)
