from django import forms
from django.utils.translation import gettext_lazy as _

from kangle.cases.models import CaseCategory, ClockType, SlaPolicy


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    policy = forms.ModelChoiceField(label=_("SLA policy"), queryset=SlaPolicy.objects.filter(is_current=True))
    precautions = forms.CharField(label=_("Precautions for residents"), widget=forms.Textarea, required=False)
    prevention_tips = forms.CharField(label=_("Prevention tips"), widget=forms.Textarea, required=False)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    sort_order = forms.IntegerField(label=_("Order"), initial=0, min_value=-10000, max_value=10000)


class CategoryCreateForm(CategoryForm):
    code = forms.SlugField(label=_("Code"), max_length=40)
    parent = forms.ModelChoiceField(
        label=_("Parent category"), queryset=CaseCategory.objects.filter(is_active=True), required=False
    )


class PolicyForm(forms.Form):
    """Milestones as lines "code | name | hours | met on status"; escalation as lines "role | hours after due"."""

    name = forms.CharField(label=_("Name"), max_length=100)
    clock_type = forms.ChoiceField(label=_("Clock"), choices=ClockType.choices)
    work_start = forms.TimeField(label=_("Working day starts"))
    work_end = forms.TimeField(label=_("Working day ends"))
    warn_percent = forms.DecimalField(
        label=_("Warn when this share of the time has passed (%)"), max_digits=5, decimal_places=1
    )
    milestones = forms.CharField(
        label=_("Milestones (one a line: code | name | hours | met when the case reaches)"),
        widget=forms.Textarea,
    )
    escalation = forms.CharField(
        label=_("Escalation chain (one a line: role | hours after the due time)"),
        widget=forms.Textarea,
        required=False,
    )


class ContractorForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    org = forms.CharField(label=_("Serves (unit code)"), max_length=64)
    categories = forms.ModelMultipleChoiceField(
        label=_("Categories"),
        queryset=CaseCategory.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
    )
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    priority = forms.IntegerField(label=_("Priority in default dispatch (higher first)"), initial=0)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class ContractorStaffForm(forms.Form):
    display_name = forms.CharField(label=_("Name"), max_length=100)
    username = forms.CharField(label=_("Username"), max_length=150)
    phone = forms.CharField(label=_("Mobile number"), max_length=30, required=False)


class CalendarYearForm(forms.Form):
    holidays = forms.CharField(
        label=_("Public holidays (one a line: YYYY-MM-DD name)"), widget=forms.Textarea, required=False
    )
    workdays = forms.CharField(
        label=_("Make-up workdays at weekends (one a line: YYYY-MM-DD)"),
        widget=forms.Textarea,
        required=False,
    )
