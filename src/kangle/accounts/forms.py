from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username or mobile number"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)

    error_messages = {
        # One message for an unknown user and a wrong password: nothing tells which accounts exist.
        "invalid_login": _("Incorrect username or password."),
        "locked": _("Too many failed attempts. Try again in %(minutes)s minutes."),
    }

    def __init__(self, request=None, *args, **kwargs):
        self.request = request
        self.user = None
        super().__init__(*args, **kwargs)

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username and password:
            self.user = authenticate(self.request, username=username, password=password)
            if self.user is None:
                if getattr(self.request, "kangle_login_locked", False):
                    raise forms.ValidationError(
                        self.error_messages["locked"],
                        code="locked",
                        params={"minutes": settings.KANGLE_LOGIN_LOCK_MINUTES},
                    )
                raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")
        return self.cleaned_data


class TokenIssueForm(forms.Form):
    name = forms.CharField(label=_("What the token is for"), max_length=100)
    username = forms.CharField(label=_("Acts as (username)"), max_length=150)


class PasswordChangeForm(forms.Form):
    new_password = forms.CharField(label=_("New password"), widget=forms.PasswordInput, strip=False)
    repeat_password = forms.CharField(
        label=_("Repeat the new password"), widget=forms.PasswordInput, strip=False
    )

    def clean(self):
        first = self.cleaned_data.get("new_password")
        second = self.cleaned_data.get("repeat_password")
        if first and second and first != second:
            self.add_error("repeat_password", _("The two passwords differ."))
        return self.cleaned_data


class LanguageForm(forms.Form):
    """The interface language switch (the same field Django's ``set_language`` reads)."""

    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)


class TextSizeForm(forms.Form):
    """The 大字版 switch: ``large`` "1" for large type, anything else for the usual size."""

    large = forms.CharField(required=False)
