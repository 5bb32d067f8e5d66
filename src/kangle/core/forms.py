"""Forms at the edge of the workbench pages: a refused field reads like a service's refusal, Chinese first and
English too, after the field's label ("排序：请输入整数。 / Sort order: Enter a whole number.").

A page form parses what a POST carries into typed values; the services keep the rules (length, range, who
may) and their ``UserError`` is shown on the same form with ``kangle.core.errors.form_error``.
"""

from __future__ import annotations

from django import forms
from django.utils import translation
from django.utils.functional import Promise

from kangle.core.errors import CHINESE, ENGLISH


def _in(language: str, message, params, label) -> str:
    with translation.override(language):
        text = str(message)
        if params:
            text = text % params
        return f"{label}：{text}" if language == CHINESE and label else f"{label}: {text}" if label else text


class BilingualForm(forms.Form):
    """Every error Django's fields give (required, not a number, not a choice …) in both languages, naming
    the field. Errors that are already plain text (a service's message) stay as they are."""

    def full_clean(self):
        super().full_clean()
        if not self._errors:
            return
        for name, errors in list(self._errors.items()):
            field = self.fields.get(name)
            label = field.label if field is not None and field.label else ""
            rewritten = []
            for error in errors.as_data():
                if not isinstance(error.message, Promise):
                    rewritten.append(error)
                    continue
                zh = _in(CHINESE, error.message, error.params, label)
                en = _in(ENGLISH, error.message, error.params, label)
                rewritten.append(forms.ValidationError(f"{zh} / {en}", code=error.code))
            self._errors[name] = self.error_class(rewritten, renderer=self.renderer)


def errors_text(form: forms.Form) -> str:
    """A refused form's errors on one line (for a page that answers with a message and a redirect)."""
    return "；".join(str(error) for errors in form.errors.values() for error in errors)


class IdListField(forms.Field):
    """Row ids from repeated inputs (``posts=1&posts=2``); anything that is not a whole number is refused."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": translation.gettext_lazy("Choose from the list.")}

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        try:
            return [int(item) for item in value]
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class PassThroughText(forms.CharField):
    """Text handed to the service as typed: the service folds, trims and checks it (``cleaners.text``,
    naming the field), so the page, the API and the phone refuse the same input with the same words."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)
