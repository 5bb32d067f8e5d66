from django.db import models
from django.utils.translation import gettext_lazy as _

from kangle.orgs.models import OrgUnit


class StreetMap(models.Model):
    """The base layer a street's map draws under its points: an XYZ tile URL (e.g. a government tile
    service with its key). Without one the map draws the points over the street's outline and makes no
    outside request."""

    street = models.OneToOneField(
        OrgUnit, on_delete=models.CASCADE, related_name="+", verbose_name=_("street")
    )
    tile_url = models.CharField(_("tile URL"), max_length=500, blank=True)
    attribution = models.CharField(_("attribution"), max_length=200, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("street map")
        verbose_name_plural = _("street maps")

    def __str__(self):
        return f"{self.street}: {self.tile_url or '-'}"
