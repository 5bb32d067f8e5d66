"""Recognition: commendation letters (表扬信), honour nominations (评优推荐) and member stories (典型事迹)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kangle.members.models import EmployerPartyOrg, Member
from kangle.orgs.models import OrgUnit


class LetterStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")


class CommendationLetter(models.Model):
    """表扬信 from the street Party working committee to a member's employer Party organisation.

    ``org`` is the member's community (staff scope); ``street`` issues it. Once issued, the number, date,
    text and PDF are fixed."""

    street = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("street"))
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("community"))
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="commendation_letters", verbose_name=_("member")
    )
    party_org = models.ForeignKey(
        EmployerPartyOrg,
        on_delete=models.PROTECT,
        related_name="commendation_letters",
        verbose_name=_("employer Party organisation"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=LetterStatus.choices, default=LetterStatus.DRAFT
    )
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    serial = models.PositiveIntegerField(null=True, blank=True)
    number = models.CharField(_("number"), max_length=60, blank=True)
    salutation = models.CharField(_("addressed to"), max_length=200)
    body = models.TextField(_("text"))
    signature = models.CharField(_("signed by"), max_length=100)
    evidence = models.JSONField(_("evidence"), default=dict)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    drafted_at = models.DateTimeField(_("drafted"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    issued_on = models.DateField(_("date"), null=True, blank=True)
    pdf = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-drafted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "year", "serial"],
                condition=Q(serial__isnull=False),
                name="recognition_letter_number_once",
            ),
        ]
        verbose_name = _("commendation letter")
        verbose_name_plural = _("commendation letters")

    def __str__(self):
        return self.number or f"draft {self.pk}"


class LetterSequence(models.Model):
    """The last serial issued per street and year; its row is locked while a number is taken."""

    street = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["street", "year"], name="recognition_sequence_once")]

    def __str__(self):
        return f"{self.street_id} {self.year}: {self.last}"


class DispatchChannel(models.TextChoices):
    DOWNLOAD = "download", _("Downloaded")
    EMAIL = "email", _("E-mailed")


class LetterDispatch(models.Model):
    """Every time a letter leaves the system: a download or an e-mail to the employer's contact."""

    letter = models.ForeignKey(CommendationLetter, on_delete=models.CASCADE, related_name="dispatches")
    channel = models.CharField(max_length=12, choices=DispatchChannel.choices)
    to = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    outbox_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("dispatch")
        verbose_name_plural = _("dispatches")

    def __str__(self):
        return f"{self.letter} {self.channel}"


class Honour(models.TextChoices):
    EXCELLENT_MEMBER = "excellent_member", _("District excellent Party member")
    ADVANCED_ORG = "advanced_org", _("Advanced grassroots Party organisation")
    OTHER = "other", _("Other honour")


class NomineeKind(models.TextChoices):
    MEMBER = "member", _("Member")
    BRANCH = "branch", _("Branch")


class NominationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    AREA_APPROVED = "area_approved", _("Passed area review")
    STREET_APPROVED = "street_approved", _("Recommended by the street")
    REJECTED = "rejected", _("Not recommended")
    HONOURED = "honoured", _("Honoured")
    NOT_HONOURED = "not_honoured", _("Not honoured")


class Nomination(models.Model):
    """评优推荐 of a member (or of an employer Party organisation's branch) for an honour.

    Steps: submitted (community) → area review → street review → result recorded by the street."""

    kind = models.CharField(_("nominee"), max_length=10, choices=NomineeKind.choices)
    honour = models.CharField(_("honour"), max_length=20, choices=Honour.choices)
    honour_name = models.CharField(_("name of the honour"), max_length=100, blank=True)
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="nominations"
    )
    party_org = models.ForeignKey(
        EmployerPartyOrg, null=True, blank=True, on_delete=models.PROTECT, related_name="nominations"
    )
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    reason = models.TextField(_("reason"))
    evidence = models.JSONField(_("evidence"), default=dict)
    status = models.CharField(
        _("status"), max_length=20, choices=NominationStatus.choices, default=NominationStatus.SUBMITTED
    )
    result = models.CharField(_("result"), max_length=300, blank=True)
    result_on = models.DateField(_("result date"), null=True, blank=True)
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    nominated_at = models.DateTimeField(_("nominated"))

    class Meta:
        ordering = ["-nominated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="member", member__isnull=False) | Q(kind="branch", party_org__isnull=False),
                name="recognition_nominee_present",
            ),
        ]
        verbose_name = _("nomination")
        verbose_name_plural = _("nominations")

    def __str__(self):
        return f"{self.get_honour_display()}: {self.nominee_name}"

    @property
    def nominee_name(self) -> str:
        return self.member.name if self.kind == NomineeKind.MEMBER and self.member_id else str(self.party_org)

    @property
    def honour_label(self) -> str:
        return self.honour_name or str(self.get_honour_display())


class NominationStep(models.Model):
    nomination = models.ForeignKey(Nomination, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(max_length=20)
    decision = models.CharField(max_length=20)
    comment = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.step}: {self.decision}"

    @property
    def step_label(self) -> str:
        return str(STEP_LABELS.get(self.step, self.step))

    @property
    def decision_label(self) -> str:
        return str(DECISION_LABELS.get(self.decision, self.decision))


# What the nomination page shows for the stored step and decision codes.
STEP_LABELS = {
    "nominate": _("Nominated"),
    "area_review": _("Area review"),
    "street_review": _("Street review"),
    "result": _("Result"),
}
DECISION_LABELS = {
    "submitted": _("submitted"),
    "approve": _("approved"),
    "reject": _("not recommended"),
    "honoured": _("honoured"),
    "not_honoured": _("not honoured"),
}


class StoryStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Story(models.Model):
    """典型事迹: a published account of members' service, linked to members and activities."""

    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    title = models.CharField(_("title"), max_length=120)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body = models.TextField(_("text"))
    members = models.ManyToManyField(Member, blank=True, related_name="stories", verbose_name=_("members"))
    # Activities live in a later app; the links are kept as "<source_type>:<source_id>" references.
    activity_refs = models.JSONField(_("activities"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=StoryStatus.choices, default=StoryStatus.DRAFT
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("member story")
        verbose_name_plural = _("member stories")

    def __str__(self):
        return self.title


class StoryPhoto(models.Model):
    """A photo of a member story, stored through the upload gate and served by ``/files/story-photo/<id>/``."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="photos")
    file = models.CharField(max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        verbose_name = _("story photo")
        verbose_name_plural = _("story photos")

    def __str__(self):
        return f"{self.story} #{self.pk}"
