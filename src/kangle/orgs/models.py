from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    DISTRICT = "district", _("District")
    STREET = "street", _("Street")
    AREA = "area", _("Area")
    COMMUNITY = "community", _("Community")
    ESTATE = "estate", _("Estate or lane")
    GRID = "grid", _("Grid")
    MICROGRID = "microgrid", _("Micro-grid")
    BUILDING_GROUP = "building_group", _("Building group")


# Depth order of the kinds; a child must be of a deeper kind than its parent (levels may be skipped,
# e.g. a grid directly under a community).
KIND_RANK = {kind.value: rank for rank, kind in enumerate(OrgKind)}

CODE_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"


class EstateType(models.TextChoices):
    """An estate-level unit is either a residential estate (小区) or a lane (弄) of old houses."""

    ESTATE = "estate", _("Residential estate")
    LANE = "lane", _("Lane")


class OrgUnit(models.Model):
    """A node of the organisation tree: 区 → 街道 → 片区 → 居民区 → 小区/弄 → 网格 → 微网格 → 楼组.

    ``path`` is the materialised path of codes (``/310104/KJ/KJ-A1/``), so "everything under X" is one
    indexed prefix query (see ``selectors.subtree_q``). Codes are immutable once created; a move
    rewrites the path of the whole subtree in one UPDATE (``services.orgunit_move``).
    """

    kind = models.CharField(_("kind"), max_length=20, choices=OrgKind.choices, db_index=True)
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent"),
    )
    # Unique, hence indexed; on PostgreSQL Django adds a varchar_pattern_ops twin for LIKE 'prefix%'.
    path = models.CharField(max_length=500, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    estate_type = models.CharField(_("estate or lane"), max_length=10, choices=EstateType.choices, blank=True)
    sort_order = models.IntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["path"]
        indexes = [
            models.Index(fields=["kind", "path"], name="orgs_unit_kind_path_idx"),
        ]
        verbose_name = _("organisation unit")
        verbose_name_plural = _("organisation units")

    def __str__(self):
        return self.name

    @property
    def rank(self) -> int:
        return KIND_RANK[self.kind]

    def ancestor_codes(self) -> list[str]:
        return [code for code in self.path.split("/") if code]

    def is_within(self, other: "OrgUnit") -> bool:
        return self.path.startswith(other.path)


class VenueKind(models.TextChoices):
    LIVING_ROOM = "living_room", _("Kangle living room")
    LEIFENG_PAVILION = "leifeng_pavilion", _("Lei Feng pavilion")
    SERVICE_CENTRE = "service_centre", _("Party and public service centre")
    WORKSTATION = "workstation", _("Area workstation")
    CARE_HOME = "care_home", _("Elderly-care home")
    OTHER = "other", _("Other")


class Venue(models.Model):
    """A place where service happens or people come: 康乐会客厅, 雷锋亭, 党群服务站, 片区工作站."""

    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="venues", verbose_name=_("unit"))
    kind = models.CharField(_("kind"), max_length=20, choices=VenueKind.choices)
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["org__path", "name"]
        verbose_name = _("venue")
        verbose_name_plural = _("venues")

    def __str__(self):
        return self.name


class RegistrationPoint(models.Model):
    """报到登记入口: a desk at a street, area or community site where members register in person.

    Its QR code opens the registration page with the point filled in.
    """

    ALLOWED_KINDS = (OrgKind.STREET, OrgKind.AREA, OrgKind.COMMUNITY)

    org = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="registration_points", verbose_name=_("unit")
    )
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    venue = models.ForeignKey(
        Venue, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("venue")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["org__path", "code"]
        verbose_name = _("registration point")
        verbose_name_plural = _("registration points")

    def __str__(self):
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("registration-point-public", args=[self.code])

    def clean(self):
        # The same rule the service applies, for the admin form.
        if self.org_id and self.org.kind not in self.ALLOWED_KINDS:
            raise ValidationError(
                {
                    "org": "报到登记入口只能设在街道、片区或居民区 / A registration point sits on a street, an area or a community"
                }
            )
