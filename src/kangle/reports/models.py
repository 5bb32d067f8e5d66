from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kangle.orgs.models import OrgUnit


class StreetSettings(models.Model):
    """A street's choices for its workbench.

    ``tile_url``: the base layer its map draws under the points, an XYZ tile URL (e.g. a government tile
    service with its key); without one the map draws the points over the street's outline and makes no
    outside request. ``sms_digest``: staff get one text a day summing up their to-do (never one per item)."""

    street = models.OneToOneField(
        OrgUnit, on_delete=models.CASCADE, related_name="+", verbose_name=_("street")
    )
    tile_url = models.CharField(_("tile URL"), max_length=500, blank=True)
    attribution = models.CharField(_("attribution"), max_length=200, blank=True)
    sms_digest = models.BooleanField(_("daily to-do text for staff"), default=False)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("street settings")
        verbose_name_plural = _("street settings")

    def __str__(self):
        return f"{self.street}: {self.tile_url or '-'}"


class TodoState(models.Model):
    """What a staff member's to-do counted when last looked at by the notice job, and the day of their last
    text digest: new work is told once, and the digest goes out at most once a day."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    counts = models.JSONField(default=dict)
    checked_at = models.DateTimeField()
    digest_on = models.DateField(null=True, blank=True)

    def __str__(self):
        return f"{self.user_id}: {self.counts}"
