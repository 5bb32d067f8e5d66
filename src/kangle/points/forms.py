"""The forms of the points pages: what a person typed, parsed into the typed arguments the services take."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kangle.points.services import MAX_ADJUSTMENT


def yes_no(**kwargs) -> forms.TypedChoiceField:
    """A "1" / "0" choice (buttons and hidden inputs send these) as True / False; anything else is False."""
    return forms.TypedChoiceField(
        choices=[("1", "1"), ("0", "0")],
        coerce=lambda value: value == "1",
        empty_value=False,
        required=False,
        **kwargs,
    )


class NumberListField(forms.CharField):
    """Whole numbers separated by commas (full-width commas too), e.g. ``60,120,240``."""

    default_error_messages = {"invalid": _("Enter whole numbers separated by commas")}

    def to_python(self, value) -> list[int]:
        text = super().to_python(value)
        try:
            return [int(part) for part in text.replace("，", ",").split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class RuleVersionForm(forms.Form):
    effective_from = forms.DateTimeField(label=_("Effective from"))
    band_limits = NumberListField(label=_("Duration bands (minutes)"))
    row1 = NumberListField(label=_("Points for difficulty 1"), required=False)
    row2 = NumberListField(label=_("Points for difficulty 2"), required=False)
    row3 = NumberListField(label=_("Points for difficulty 3"), required=False)
    row4 = NumberListField(label=_("Points for difficulty 4"), required=False)
    row5 = NumberListField(label=_("Points for difficulty 5"), required=False)
    daily_cap = forms.IntegerField(label=_("Daily cap"), min_value=0, max_value=2**31 - 1, required=False)
    monthly_cap = forms.IntegerField(label=_("Monthly cap"), min_value=0, max_value=2**31 - 1, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def rule_arguments(self) -> dict:
        """The keyword arguments of ``services.rule_create`` (besides actor and street)."""
        data = self.cleaned_data
        return {
            "effective_from": data["effective_from"],
            "band_limits": data["band_limits"],
            "table": [data[f"row{d}"] for d in range(1, 6)],
            "daily_cap": data["daily_cap"] or 0,
            "monthly_cap": data["monthly_cap"] or 0,
            "note": data["note"],
        }


class AdjustForm(forms.Form):
    member = forms.IntegerField(label=_("Member"), min_value=1)
    points = forms.IntegerField(label=_("Points"), min_value=-MAX_ADJUSTMENT, max_value=MAX_ADJUSTMENT)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class DecideForm(forms.Form):
    approve = yes_no(label=_("Approve"))


class LimitForm(forms.Form):
    street = forms.CharField(label=_("Street"), max_length=50)
    approval_above = forms.IntegerField(
        label=_("Approval needed above"), min_value=1, max_value=MAX_ADJUSTMENT
    )


class VisibilityForm(forms.Form):
    hidden = yes_no()


class HouseholdForm(forms.Form):
    household_member = forms.IntegerField(label=_("Household member"), min_value=1, required=False)


class PassUseForm(forms.Form):
    code = forms.CharField(label=_("Pass code"), max_length=20, required=False)


def form_errors_text(form: forms.Form) -> str:
    """Every error of ``form`` on one line, each after its field's label (for a page that shows messages)."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            parts.append(f"{label}：{error}" if label else str(error))
    return "；".join(parts)
