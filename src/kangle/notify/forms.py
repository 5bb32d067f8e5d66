from django import forms


class CodeLoginForm(forms.Form):
    """Log in with a texted code: ``action`` "send" texts a code to ``phone``, anything else checks ``code``."""

    phone = forms.CharField(required=False)
    code = forms.CharField(required=False)
    action = forms.CharField(required=False)


class SignupForm(forms.Form):
    """A resident names themselves and their community (the service checks both)."""

    display_name = forms.CharField(required=False, strip=False)
    community = forms.CharField(required=False)
