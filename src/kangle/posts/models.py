"""Service posts (服务岗位): the catalogue of 3 categories × 9 aspects, posts and schedules, claims (认领),
invitations and bulk-assignment proposals."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kangle.core.timeutil import today
from kangle.members.models import Member, Skill
from kangle.orgs.models import OrgUnit, Venue


class ServiceCategory(models.Model):
    """服务类别: 参与志愿服务, 融入基层治理, 帮扶困难群众 (seeded; the street admin edits them)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50)
    sort_order = models.IntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("service category")
        verbose_name_plural = _("service categories")

    def __str__(self):
        return self.name


class ServiceAspect(models.Model):
    """服务方面: ``code`` is the aspect code members' willingness uses (members.constants.Aspect). Retiring an
    aspect hides it from new posts; existing posts and claims keep pointing at it."""

    category = models.ForeignKey(
        ServiceCategory, on_delete=models.PROTECT, related_name="aspects", verbose_name=_("category")
    )
    code = models.SlugField(_("code"), max_length=40, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=50)
    description = models.CharField(_("description"), max_length=200, blank=True)
    sort_order = models.IntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["category__sort_order", "sort_order", "code"]
        verbose_name = _("service aspect")
        verbose_name_plural = _("service aspects")

    def __str__(self):
        return self.name


class PostStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Recruiting")
    FULL = "full", _("Full")
    CLOSED = "closed", _("Closed to claims")


class Post(models.Model):
    """服务岗位. ``org`` is the owning node (a community, an area or the street): members living under it may
    claim. ``slot_mask`` (weekly slots plus the slots of dated sessions) and the ``place_*`` columns (where
    the post happens, by level) are derived by the services so matching is plain column arithmetic in SQL."""

    org = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="posts", verbose_name=_("owning unit")
    )
    aspect = models.ForeignKey(
        ServiceAspect, on_delete=models.PROTECT, related_name="posts", verbose_name=_("aspect")
    )
    venue = models.ForeignKey(
        Venue, null=True, blank=True, on_delete=models.PROTECT, related_name="posts", verbose_name=_("venue")
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    required_skills = models.ManyToManyField(
        Skill, blank=True, related_name="posts_requiring", verbose_name=_("required skills")
    )
    preferred_skills = models.ManyToManyField(
        Skill, blank=True, related_name="posts_preferring", verbose_name=_("preferred skills")
    )
    # Recurring weekly slots: 21 bits, day * 3 + period, the same encoding as Member.availability.
    weekly_slots = models.PositiveIntegerField(_("weekly slots"), default=0)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    slot_mask = models.PositiveIntegerField(default=0, editable=False)
    # The last day the post runs (the weekly end or the last session); null while it runs open-ended.
    last_day = models.DateField(null=True, blank=True, editable=False, db_index=True)
    capacity = models.PositiveIntegerField(_("capacity"))
    claimed_count = models.PositiveIntegerField(default=0, editable=False)
    difficulty = models.PositiveSmallIntegerField(_("difficulty"), default=1)
    needs_confirmation = models.BooleanField(_("claims need the secretary's confirmation"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=PostStatus.choices, default=PostStatus.DRAFT, db_index=True
    )
    place_microgrid = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    place_estate = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    place_community = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    place_area = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(difficulty__gte=1, difficulty__lte=5), name="posts_difficulty_1_5"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="posts_capacity_positive"),
            models.CheckConstraint(
                condition=Q(claimed_count__lte=F("capacity")), name="posts_claims_within_capacity"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="posts_ends_after_start",
            ),
            models.CheckConstraint(condition=Q(weekly_slots__lt=1 << 21), name="posts_weekly_21_slots"),
        ]
        indexes = [models.Index(fields=["org", "status"], name="posts_org_status_idx")]
        verbose_name = _("service post")
        verbose_name_plural = _("service posts")

    def __str__(self):
        return self.title

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.claimed_count, 0)

    @property
    def has_ended(self) -> bool:
        return self.last_day is not None and self.last_day < today()

    @property
    def is_claimable(self) -> bool:
        return self.status == PostStatus.OPEN and self.claimed_count < self.capacity and not self.has_ended


class PostSession(models.Model):
    """A dated session of a post (e.g. 2026-12-05 09:00–11:00), in addition to or instead of weekly slots."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="posts_session_ends_after_start"
            )
        ]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    def __str__(self):
        return f"{self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REMOVED = "removed", _("Removed")


ACTIVE_CLAIM_STATUSES = (ClaimStatus.PENDING, ClaimStatus.CONFIRMED)


class ClaimSource(models.TextChoices):
    SELF = "self", _("Claimed by the member")
    INVITATION = "invitation", _("After an invitation")
    BULK = "bulk", _("Bulk assignment")


class Claim(models.Model):
    """认领: a member holds a place on a post. Pending and confirmed claims count against the capacity."""

    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="claims", verbose_name=_("post"))
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="claims", verbose_name=_("member")
    )
    status = models.CharField(_("status"), max_length=10, choices=ClaimStatus.choices, db_index=True)
    source = models.CharField(
        _("source"), max_length=12, choices=ClaimSource.choices, default=ClaimSource.SELF
    )
    score = models.IntegerField(_("match score"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["-claimed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "member"],
                condition=Q(status__in=["pending", "confirmed"]),
                name="posts_one_active_claim_per_member",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "status"], name="posts_claim_member_status_idx"),
            models.Index(fields=["post", "status"], name="posts_claim_post_status_idx"),
        ]
        verbose_name = _("claim")
        verbose_name_plural = _("claims")

    def __str__(self):
        return f"{self.member} → {self.post}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_CLAIM_STATUSES


class Invitation(models.Model):
    """Staff invited a member to claim a post (from the members-for-post list)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="invitations")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="post_invitations")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    invited_at = models.DateTimeField()
    reasons = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "member"], name="posts_invite_once")]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self):
        return f"{self.member} ← {self.post}"


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", _("Proposal")
    CONFIRMED = "confirmed", _("Confirmed")
    DISCARDED = "discarded", _("Discarded")


class BulkProposal(models.Model):
    """A computed assignment of members to several posts; the secretary edits its items, then confirms it."""

    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.DRAFT)
    posts = models.ManyToManyField(Post, related_name="+")
    total_score = models.IntegerField(default=0)
    greedy_score = models.IntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("bulk assignment proposal")
        verbose_name_plural = _("bulk assignment proposals")

    def __str__(self):
        return f"#{self.pk}"


class BulkProposalItem(models.Model):
    proposal = models.ForeignKey(BulkProposal, on_delete=models.CASCADE, related_name="items")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    score = models.IntegerField()
    reasons = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["post_id", "-score", "member_id"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "post", "member"], name="posts_proposal_item_once")
        ]

    def __str__(self):
        return f"{self.member_id} → {self.post_id}"
