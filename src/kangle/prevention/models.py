"""Prevention (民情快办, part B 5–6): monitoring points and their readings, warnings, inspection campaigns.

``Warning`` is the row the period analysis counts. It carries a copy of its place's org path
(``org_path``) and the id of its community, so "warnings under node X between A and B, by place type and
community" is one indexed query without joins.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kangle.cases.models import Case, Contractor
from kangle.orgs.models import OrgUnit


class PlaceType(models.TextChoices):
    OLD_HOUSE = "old_house", _("Old houses")
    GREEN_BELT = "green_belt", _("Green belt")
    SHOP = "shop", _("Shops")
    OTHER = "other", _("Other")


# How the generated brief names a type of place inside a sentence ("集中在老旧房屋和绿化地带").
PLACES_IN_A_SENTENCE = {
    PlaceType.OLD_HOUSE: _("old houses"),
    PlaceType.GREEN_BELT: _("green belts"),
    PlaceType.SHOP: _("shops"),
    PlaceType.OTHER: _("other places"),
}


class PointStatus(models.TextChoices):
    ACTIVE = "active", _("In service")
    RETIRED = "retired", _("Retired")


class MonitoringPoint(models.Model):
    """监测点: a bait station (e.g. buried at a tree root) checked on every inspection round."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("place"))
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    place_type = models.CharField(_("type of place"), max_length=20, choices=PlaceType.choices)
    device_type = models.CharField(_("device"), max_length=100)
    bait_type = models.CharField(_("bait"), max_length=100)
    installed_on = models.DateField(_("installed on"))
    status = models.CharField(
        _("status"), max_length=10, choices=PointStatus.choices, default=PointStatus.ACTIVE
    )
    retired_on = models.DateField(_("retired on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("monitoring point")
        verbose_name_plural = _("monitoring points")

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def is_active(self) -> bool:
        return self.status == PointStatus.ACTIVE


class InspectionRound(models.Model):
    """巡检轮次: one pass over the active monitoring points under ``org``; one reading per point."""

    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("covers"))
    name = models.CharField(_("name"), max_length=100)
    started_at = models.DateTimeField(_("started"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("inspection round")
        verbose_name_plural = _("inspection rounds")

    def __str__(self):
        return self.name

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Reading(models.Model):
    """巡检读数: what one point showed on one round."""

    round = models.ForeignKey(InspectionRound, on_delete=models.PROTECT, related_name="readings")
    point = models.ForeignKey(MonitoringPoint, on_delete=models.PROTECT, related_name="readings")
    activity_found = models.BooleanField(_("termite activity found"))
    bait_consumed_pct = models.PositiveSmallIntegerField(_("bait consumed (%)"))
    photo = models.FileField(_("photo"), upload_to="prevention/%Y/%m/", max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"))

    class Meta:
        ordering = ["round", "point__code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "point"], name="prevention_one_reading_per_point"),
            models.CheckConstraint(
                condition=models.Q(bait_consumed_pct__lte=100), name="prevention_reading_pct_max_100"
            ),
        ]
        verbose_name = _("reading")
        verbose_name_plural = _("readings")

    def __str__(self):
        return f"{self.round_id}:{self.point_id}"

    @property
    def is_positive(self) -> bool:
        return self.activity_found


class WarningSource(models.TextChoices):
    MONITORING = "monitoring", _("Monitoring reading")
    RESIDENT_CASE = "resident_case", _("Resident case")
    PATROL = "patrol", _("Patrol")


class Warning(models.Model):
    """预警: termite activity reported from a reading, a resident's case or a patrol."""

    source = models.CharField(_("source"), max_length=20, choices=WarningSource.choices)
    place_type = models.CharField(_("type of place"), max_length=20, choices=PlaceType.choices)
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("place"))
    # Copies of the place's path and its community, written once: the analysis filters and groups on them.
    org_path = models.CharField(max_length=500, editable=False)
    community = models.ForeignKey(
        OrgUnit, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    occurred_at = models.DateTimeField(_("time"))
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    # Written once with the row, for the analysis to group on without per-row arithmetic: the local date,
    # and the ~100 m grid cell of the coordinates (round(value × 1000)).
    occurred_on = models.DateField(editable=False)
    cell_lat = models.IntegerField(null=True, editable=False)
    cell_lng = models.IntegerField(null=True, editable=False)
    description = models.CharField(_("description"), max_length=300, blank=True)
    reading = models.OneToOneField(
        Reading, null=True, blank=True, on_delete=models.PROTECT, related_name="warning"
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("case")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # Subtree prefix + time range (PostgreSQL: LIKE 'path%' on varchar_pattern_ops).
            models.Index(
                fields=["org_path", "occurred_at"],
                name="prev_warning_path_time_idx",
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
            ),
            models.Index(fields=["occurred_at"], name="prev_warning_time_idx"),
        ]
        constraints = [
            # A resident case gives at most one warning.
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(source="resident_case"),
                name="prevention_one_warning_per_case",
            )
        ]
        verbose_name = _("warning")
        verbose_name_plural = _("warnings")

    def __str__(self):
        return f"{self.get_source_display()} {self.occurred_at:%Y-%m-%d}"


def grid_cell(value) -> int | None:
    """The ~100 m grid cell of a coordinate: round(value × 1000), half away from zero."""
    if value is None:
        return None
    return int(Decimal(str(value)).scaleb(3).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class CampaignStatus(models.TextChoices):
    ACTIVE = "active", _("Under way")
    CLOSED = "closed", _("Finished")


class Campaign(models.Model):
    """地毯式巡查: a joint team inspects every estate and lane on its list."""

    name = models.CharField(_("name"), max_length=100)
    org = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("organised by")
    )
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.ACTIVE
    )
    # The desk person leading the joint team (logs the on-the-spot cases' desk steps).
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("team lead")
    )
    contractor = models.ForeignKey(
        Contractor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("contractor"),
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("inspection campaign")
        verbose_name_plural = _("inspection campaigns")

    def __str__(self):
        return self.name


class TeamRole(models.TextChoices):
    AREA_OFFICE = "area_office", _("Area office")
    CITY_OPERATIONS = "city_operations", _("City-operations centre")
    CONSTRUCTION_CENTRE = "construction_centre", _("Construction centre")
    PROPERTY_COMPANY = "property_company", _("Property company")
    CONTRACTOR = "contractor", _("Contractor")


class TeamOrganisation(models.Model):
    """One organisation of a campaign's joint team."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="team")
    role = models.CharField(_("role"), max_length=24, choices=TeamRole.choices)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["campaign", "id"]
        verbose_name = _("team organisation")
        verbose_name_plural = _("team organisations")

    def __str__(self):
        return self.name


class CampaignUnit(models.Model):
    """An estate or lane on a campaign's list, and whether (and by whom) it has been inspected."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="units")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    inspected_at = models.DateTimeField(null=True, blank=True)
    inspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("findings"), max_length=500, blank=True)

    class Meta:
        ordering = ["campaign", "unit__path"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "unit"], name="prevention_campaign_unit_once")
        ]
        indexes = [models.Index(fields=["campaign", "inspected_at"], name="prev_cu_progress_idx")]
        verbose_name = _("campaign estate or lane")
        verbose_name_plural = _("campaign estates and lanes")

    def __str__(self):
        return f"{self.campaign_id}:{self.unit_id}"


class Finding(models.Model):
    """巡查发现: what the team found at an estate or lane; a nest treated on the spot is a completed case."""

    campaign_unit = models.ForeignKey(CampaignUnit, on_delete=models.PROTECT, related_name="findings")
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("place"))
    place_type = models.CharField(_("type of place"), max_length=20, choices=PlaceType.choices)
    description = models.CharField(_("description"), max_length=300)
    nest_found = models.BooleanField(_("nest found"), default=False)
    treated_on_spot = models.BooleanField(_("treated on the spot"), default=False)
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("case")
    )
    warning = models.OneToOneField(
        Warning, null=True, blank=True, on_delete=models.PROTECT, related_name="finding"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("finding")
        verbose_name_plural = _("findings")

    def __str__(self):
        return self.description[:40]


class Spraying(models.Model):
    """喷洒药水: a campaign action next to inspection — an estate's green belts sprayed by a contractor with
    an agent, on a date, with photos. Only estates on the campaign's list can be sprayed under it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="sprayings")
    campaign_unit = models.ForeignKey(CampaignUnit, on_delete=models.PROTECT, related_name="sprayings")
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("estate"))
    # The estate's path, kept on the row so the figures filter by the indexed prefix (as warnings do).
    org_path = models.CharField(max_length=500, db_index=True)
    sprayed_at = models.DateTimeField(_("sprayed"), db_index=True)
    contractor = models.ForeignKey(
        Contractor, on_delete=models.PROTECT, related_name="+", verbose_name=_("contractor")
    )
    agent = models.CharField(_("agent"), max_length=200)
    note = models.CharField(_("where and how much"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-sprayed_at", "-id"]
        verbose_name = _("green-belt spraying")
        verbose_name_plural = _("green-belt sprayings")

    def __str__(self):
        return f"{self.org_id} {self.sprayed_at:%Y-%m-%d}"


class SprayingPhoto(models.Model):
    spraying = models.ForeignKey(Spraying, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="prevention/spraying/%Y/%m/", max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        verbose_name = _("spraying photo")
        verbose_name_plural = _("spraying photos")

    def __str__(self):
        return self.file.name
