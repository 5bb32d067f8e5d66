"""The member file (一人一档): members, their employers and Party organisations, skills, households, history,
expected numbers per micro-grid (底数), and import jobs."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kangle.core.crypto import EncryptedTextField
from kangle.core.masking import mask_address, mask_id_number, mask_name, mask_phone
from kangle.members.constants import (
    ACTIVE_STATUSES,
    DAYS,
    PERIODS,
    Channel,
    Gender,
    PoliticalStatus,
    Relation,
    Status,
)
from kangle.orgs.models import OrgUnit, RegistrationPoint


class Skill(models.Model):
    """专业特长: a seeded, editable taxonomy (Django admin)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50, unique=True)
    sort_order = models.IntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("skill")
        verbose_name_plural = _("skills")

    def __str__(self):
        return self.name


class Employer(models.Model):
    """工作单位, shared by every member who works there; commendation letters are addressed here."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    contact_person = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("employer")
        verbose_name_plural = _("employers")

    def __str__(self):
        return self.name


class EmployerPartyOrg(models.Model):
    """单位党组织: the employer's Party organisation; it may register its members collectively."""

    employer = models.ForeignKey(
        Employer, on_delete=models.PROTECT, related_name="party_orgs", verbose_name=_("employer")
    )
    name = models.CharField(_("name"), max_length=200, unique=True)
    contact_person = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    # The login that acts for this organisation (role employer_party_org).
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="party_orgs",
        verbose_name=_("account"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("employer Party organisation")
        verbose_name_plural = _("employer Party organisations")

    def __str__(self):
        return self.name


class Member(models.Model):
    """在职党员 file. ``org`` is the deepest known place (building group … community): scoping filters on it,
    so a grid leader sees the members of their grid and a secretary those of the whole community."""

    # Where the person lives.
    community = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    estate = models.ForeignKey(
        OrgUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("estate or lane"),
    )
    microgrid = models.ForeignKey(
        OrgUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("micro-grid"),
    )
    building_group = models.ForeignKey(
        OrgUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("building group"),
    )
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="members", verbose_name=_("unit"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member_files",
        verbose_name=_("account"),
    )

    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    phone = EncryptedTextField(_("mobile number"))
    phone_hash = models.CharField(max_length=64, db_index=True, editable=False)
    # 138****1234, stored with the phone so a list shows it without decrypting anything.
    phone_mask = models.CharField(max_length=20, blank=True, default="", editable=False)
    id_number = EncryptedTextField(_("ID number"), blank=True, default="")
    id_hash = models.CharField(max_length=64, null=True, blank=True, db_index=True, editable=False)
    address = EncryptedTextField(_("home address"), blank=True, default="")
    political_status = models.CharField(_("political status"), max_length=20, choices=PoliticalStatus.choices)
    employer = models.ForeignKey(
        Employer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("employer"),
    )
    party_org = models.ForeignKey(
        EmployerPartyOrg,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("employer Party organisation"),
    )
    position = models.CharField(_("position"), max_length=100, blank=True)
    skills = models.ManyToManyField(Skill, blank=True, related_name="members", verbose_name=_("skills"))
    skills_other = models.CharField(_("other skills"), max_length=200, blank=True)
    # 21 bits: day * 3 + period (see constants.SLOTS).
    availability = models.PositiveIntegerField(_("availability"), default=0)
    hours_per_month = models.PositiveSmallIntegerField(_("hours per month offered"), default=0)

    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    point = models.ForeignKey(
        RegistrationPoint,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("registration point"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    return_reason = models.CharField(_("reason for return"), max_length=300, blank=True)
    registered_at = models.DateTimeField(_("registered"))
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    left_at = models.DateTimeField(_("left"), null=True, blank=True, db_index=True)
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True)
    import_job = models.ForeignKey(
        "ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["community__path", "name", "id"]
        constraints = [
            # Never two active files for one person: per phone, and per ID number when given.
            models.UniqueConstraint(
                fields=["phone_hash"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="members_one_active_file_per_phone",
            ),
            models.UniqueConstraint(
                fields=["id_hash"],
                condition=Q(status__in=ACTIVE_STATUSES, id_hash__isnull=False),
                name="members_one_active_file_per_id_number",
            ),
            models.CheckConstraint(
                condition=Q(availability__lt=1 << 21), name="members_availability_21_slots"
            ),
        ]
        indexes = [
            models.Index(fields=["community", "status"], name="members_community_status_idx"),
            models.Index(fields=["microgrid", "status"], name="members_microgrid_status_idx"),
            # Registrations waiting for approval (the to-do line and the list's ?status=pending), by unit.
            models.Index(
                fields=["org", "registered_at"], name="members_pending_idx", condition=Q(status="pending")
            ),
        ]
        verbose_name = _("member")
        verbose_name_plural = _("members")

    def __str__(self):
        return self.name

    @property
    def is_active_file(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def masked_phone(self) -> str:
        return self.phone_mask or mask_phone(self.phone)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_address(self) -> str:
        return mask_address(self.address)

    def has_slot(self, index: int) -> bool:
        return bool(self.availability & (1 << index))

    @property
    def availability_grid(self) -> list[tuple[str, list[bool]]]:
        """Rows of (day label, [morning, afternoon, evening]) for display."""
        return [
            (label, [self.has_slot(d * 3 + p) for p in range(len(PERIODS))])
            for d, (_c, label) in enumerate(DAYS)
        ]


class MemberWillingness(models.Model):
    """One row per aspect a member wants to serve in (服务意愿). ``aspect`` points at the catalogue's aspect
    (posts.ServiceAspect, named by string so that members does not import posts): the catalogue is the one
    place an aspect's name lives, so renaming it there renames it in every member file."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="willingness")
    # Indexed below together with the member, so matching reads "who wants this aspect" from the index alone.
    aspect = models.ForeignKey(
        "posts.ServiceAspect",
        on_delete=models.PROTECT,
        related_name="willing",
        verbose_name=_("aspect"),
        db_index=False,
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "aspect"], name="members_willingness_once")]
        indexes = [models.Index(fields=["aspect", "member"], name="members_willing_aspect_idx")]
        verbose_name = _("willingness")
        verbose_name_plural = _("willingness")

    def __str__(self):
        return self.aspect.name


class HouseholdMember(models.Model):
    """家庭成员: for family priority when points are used."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="household")
    name = models.CharField(_("name"), max_length=50)
    relation = models.CharField(_("relation"), max_length=20, choices=Relation.choices)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("household member")
        verbose_name_plural = _("household members")

    def __str__(self):
        return self.name


class StatusChange(models.Model):
    """The history of a file's status: every registration, approval, return, transfer, departure, merge."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")

    def __str__(self):
        return f"{self.from_status}→{self.to_status}"


class ExpectedCount(models.Model):
    """底数: how many in-service members are expected to live in a micro-grid (or a community without any)."""

    org = models.OneToOneField(OrgUnit, on_delete=models.CASCADE, related_name="expected_members")
    expected = models.PositiveIntegerField(_("expected members"))
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("expected members")
        verbose_name_plural = _("expected members")

    def __str__(self):
        return f"{self.org}: {self.expected}"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    PREVIEWED = "previewed", _("Checked")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One upload: the file, its column mapping, the dry-run result, then the all-or-nothing commit."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.IMPORT)
    party_org = models.ForeignKey(
        EmployerPartyOrg, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=200)
    # The uploaded file and, after the dry run, its parsed rows — both encrypted (they hold personal data)
    # and cleared once the import has finished.
    content = models.BinaryField()
    parsed = models.BinaryField(default=b"")
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    good_rows = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    # A sample of the errors (the first ERROR_SAMPLE) and how many there are: a bad 300,000-row file
    # must not leave tens of megabytes of JSON in the row every page reads.
    errors = models.JSONField(default=list)
    error_count = models.PositiveIntegerField(default=0)
    bad_row_count = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("member import")
        verbose_name_plural = _("member imports")

    def __str__(self):
        return self.filename

    @property
    def progress_percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, int(self.processed * 100 / self.total_rows))
