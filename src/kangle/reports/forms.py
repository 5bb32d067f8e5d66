from django import forms


class StreetSettingsForm(forms.Form):
    """A street's map tiles and its to-do text digest (the services check the address and the length)."""

    tile_url = forms.CharField(required=False)
    attribution = forms.CharField(required=False)
    sms_digest = forms.BooleanField(required=False)
