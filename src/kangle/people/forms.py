from django import forms
from django.utils.translation import gettext_lazy as _

from kangle.core.roles import Role
from kangle.people.permissions import CREATABLE_ROLES

ROLE_CHOICES = [(role.value, role.label) for role in CREATABLE_ROLES]


class StaffAccountForm(forms.Form):
    display_name = forms.CharField(label=_("Name"), max_length=100)
    username = forms.CharField(label=_("Username"), max_length=150)
    phone = forms.CharField(label=_("Mobile number"), max_length=30, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)
    org = forms.CharField(label=_("Unit code"), max_length=64)


class RoleGrantForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=[(r.value, r.label) for r in Role])
    org = forms.CharField(label=_("Unit code"), max_length=64)


class GridLeaderForm(forms.Form):
    """Appoint someone already holding a role in one's scope (by username or mobile), or a new account."""

    existing = forms.CharField(
        label=_("Existing account (username or mobile number)"), max_length=150, required=False
    )
    display_name = forms.CharField(label=_("Or a new person: name"), max_length=100, required=False)
    username = forms.CharField(label=_("New username"), max_length=150, required=False)
    phone = forms.CharField(label=_("New mobile number"), max_length=30, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("existing") and not data.get("username"):
            raise forms.ValidationError(_("Pick an existing account or enter a new one."))
        return data


class DisableForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class WithdrawForm(forms.Form):
    """Where a role's withdrawal returns to: the unit's page or (by default) the person's."""

    back = forms.ChoiceField(choices=[("user", "user"), ("unit", "unit")], required=False)


class AuditFilterForm(forms.Form):
    """The audit log's filters (a GET form); a malformed date is no filter, as an empty one."""

    person = forms.CharField(required=False)
    action = forms.CharField(required=False)
    object_type = forms.CharField(required=False)
    object_id = forms.CharField(required=False)
    org = forms.CharField(required=False)
    since = forms.DateField(required=False)
    until = forms.DateField(required=False)
    personal_data = forms.BooleanField(required=False)

    def filters(self) -> dict:
        self.is_valid()
        data = self.cleaned_data
        return {name: data.get(name) or (None if name in ("since", "until") else "") for name in self.fields}
