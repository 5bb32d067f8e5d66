from django import forms
from django.utils.translation import gettext_lazy as _

from kangle.orgs.models import OrgKind


class UnitCreateForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=OrgKind.choices)
    code = forms.CharField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=100)


class UnitMoveForm(forms.Form):
    parent_code = forms.CharField(label=_("New parent (code)"), max_length=40)
