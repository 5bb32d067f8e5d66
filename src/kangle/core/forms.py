"""Form fields shared by the apps' page forms."""

from __future__ import annotations

from django import forms


class PassThroughText(forms.CharField):
    """Text handed to the service as typed: the service folds, trims and checks it (``cleaners.text``,
    naming the field), so the page, the API and the phone refuse the same input with the same words."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)
