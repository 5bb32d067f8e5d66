"""Points (积分): versioned rules, the append-only ledger, cached balances, benefits and bookings.

See ``kangle.points.services`` for the interface other apps call and the invariants ``kangle ledger-check``
proves.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kangle.members.models import EmployerPartyOrg, HouseholdMember, Member
from kangle.orgs.models import OrgUnit, Venue

DIFFICULTIES = (1, 2, 3, 4, 5)
# Default duration bands: the upper bounds (exclusive, in minutes) of bands 1–4; band 5 is everything above.
DEFAULT_BAND_LIMITS = [60, 120, 240, 480]


def default_table() -> list[list[int]]:
    """The shipped default: points = ⌊(difficulty + band) / 2⌋ with both counted 1–5.

    ====================  =====  =====  =====  =====  =====
    difficulty \\ hours    < 1    1–2    2–4    4–8    ≥ 8
    ====================  =====  =====  =====  =====  =====
    1 (simple)            1      1      2      2      3
    2                     1      2      2      3      3
    3                     2      2      3      3      4
    4                     2      3      3      4      4
    5 (hardest)           3      3      4      4      5
    ====================  =====  =====  =====  =====  =====
    """
    return [[(d + b) // 2 for b in range(1, 6)] for d in DIFFICULTIES]


class PointsRule(models.Model):
    """积分规则: one version of the street's table. A version is never edited once an award used it; a new
    version takes over from ``effective_from`` and only for services that happen from then on."""

    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("street"))
    version = models.PositiveIntegerField(_("version"))
    effective_from = models.DateTimeField(_("effective from"), db_index=True)
    band_limits = models.JSONField(_("duration band limits (minutes)"), default=list)
    table = models.JSONField(_("points table"), default=list)
    daily_cap = models.PositiveSmallIntegerField(_("daily cap"), default=10)
    monthly_cap = models.PositiveSmallIntegerField(_("monthly cap"), default=60)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["org", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["org", "version"], name="points_rule_version_once"),
            models.UniqueConstraint(fields=["org", "effective_from"], name="points_rule_one_per_moment"),
            models.CheckConstraint(
                condition=Q(daily_cap__gte=1, monthly_cap__gte=1), name="points_rule_caps_positive"
            ),
        ]
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")

    def __str__(self):
        return f"v{self.version}"

    def band_of(self, minutes: int) -> int:
        """1-based duration band of ``minutes``."""
        for index, limit in enumerate(self.band_limits):
            if minutes < limit:
                return index + 1
        return len(self.band_limits) + 1

    def points_for(self, difficulty: int, minutes: int) -> int:
        return int(self.table[difficulty - 1][self.band_of(minutes) - 1])

    def band_labels(self) -> list[str]:
        labels, lower = [], 0
        for limit in self.band_limits:
            labels.append(f"{_hours(lower)}–{_hours(limit)} h")
            lower = limit
        labels.append(f"≥ {_hours(lower)} h")
        return labels


def _hours(minutes: int) -> str:
    value = minutes / 60
    return f"{value:g}"


class EntryKind(models.TextChoices):
    AWARD = "award", _("Award for service")
    REVERSAL = "reversal", _("Reversal")
    ADJUSTMENT = "adjustment", _("Manual adjustment")
    SPEND = "spend", _("Spent on a benefit")
    REFUND = "refund", _("Refund")


EARNING_KINDS = (EntryKind.AWARD, EntryKind.REVERSAL, EntryKind.ADJUSTMENT)


class LedgerEntry(models.Model):
    """积分流水: append-only. Nothing updates or deletes a row (services, admin, and on PostgreSQL a trigger).

    The ranking dimensions (community, grid, employer Party organisation) are copied from the member's file
    when the entry is written, and only on earning entries (award, reversal, adjustment): spending does not
    lower a member's place in a ranking.
    """

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(_("kind"), max_length=12, choices=EntryKind.choices)
    points = models.IntegerField(_("points"))
    idempotency_key = models.CharField(max_length=200, unique=True)
    source_type = models.CharField(_("source type"), max_length=40, blank=True)
    source_id = models.CharField(_("source id"), max_length=80, blank=True)
    # Awards: the rule version, the inputs and the uncapped points the table gave.
    rule = models.ForeignKey(
        PointsRule, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    rule_version = models.PositiveIntegerField(null=True, blank=True)
    difficulty = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    base_points = models.PositiveSmallIntegerField(null=True, blank=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    occurred_at = models.DateTimeField(_("occurred"))
    occurred_on = models.DateField()  # local date of occurred_at, for daily caps and checks
    recorded_at = models.DateTimeField(_("recorded"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    community = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    party_org = models.ForeignKey(
        EmployerPartyOrg, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    org_path = models.CharField(max_length=500, db_index=True)  # the member's org at the time, for scoping

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="award") | Q(points__gte=0, points__lte=5, rule__isnull=False),
                name="points_award_has_rule_and_0_to_5",
            ),
            models.CheckConstraint(
                condition=~Q(kind="spend") | Q(points__lt=0), name="points_spend_negative"
            ),
            models.CheckConstraint(
                condition=~Q(kind="adjustment") | ~Q(reason=""), name="points_adjust_has_reason"
            ),
        ]
        indexes = [
            # One member's balance: an index-only sum on PostgreSQL.
            models.Index(fields=["member", "points"], name="points_ledger_member_idx"),
            # A member's day and month totals (award caps); covering, so ledger-check's day totals are one
            # index-only walk in (member, day) order.
            models.Index(
                fields=["member", "occurred_on", "kind", "points"], name="points_ledger_member_day_idx"
            ),
            # Rankings for a period.
            models.Index(
                fields=["community", "occurred_at", "member", "points"], name="points_rank_community_idx"
            ),
            models.Index(fields=["grid", "occurred_at", "member", "points"], name="points_rank_grid_idx"),
            models.Index(
                fields=["party_org", "occurred_at", "member", "points"], name="points_rank_party_idx"
            ),
            models.Index(fields=["source_type", "source_id"], name="points_ledger_source_idx"),
            # Members who ever spent (ledger-check's running sums read only theirs).
            models.Index(fields=["member"], condition=Q(kind="spend"), name="points_ledger_spend_idx"),
        ]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")

    def __str__(self):
        return f"{self.member_id} {self.kind} {self.points:+d}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("_append", False):
            raise RuntimeError("ledger entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("ledger entries are append-only")


class Balance(models.Model):
    """A cached total per member, written in the same transaction as each entry; its row is also the lock
    that serialises a member's awards and spends. ``kangle ledger-check`` compares it with the sum."""

    member = models.OneToOneField(
        Member, on_delete=models.PROTECT, related_name="points_balance", primary_key=True
    )
    total = models.IntegerField(default=0)
    entries = models.PositiveIntegerField(default=0)
    hide_from_rankings = models.BooleanField(_("hide me from public rankings"), default=False)

    class Meta:
        verbose_name = _("balance")
        verbose_name_plural = _("balances")

    def __str__(self):
        return f"{self.member_id}: {self.total}"


class BenefitKind(models.TextChoices):
    EARLY_SIGNUP = "early_signup", _("Early sign-up for activities")
    RESOURCE = "resource", _("Bookable shared resource")
    PRIORITY_PASS = "priority_pass", _("Priority pass for a public service")


class ResourceKind(models.TextChoices):
    ROOM = "room", _("Room")
    EQUIPMENT = "equipment", _("Equipment")
    SERVICE = "service", _("Service")


class Benefit(models.Model):
    """权益: what points unlock for a member and their household. ``org`` (street or below) is where it
    applies and who manages it."""

    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    kind = models.CharField(_("kind"), max_length=20, choices=BenefitKind.choices)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    min_points = models.PositiveIntegerField(_("minimum balance"), default=0)
    cost_points = models.PositiveIntegerField(_("cost in points"), default=0)
    early_hours = models.PositiveIntegerField(_("hours before everyone else"), default=0)
    resource_kind = models.CharField(
        _("resource kind"), max_length=20, choices=ResourceKind.choices, blank=True
    )
    venue = models.ForeignKey(
        Venue, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("venue")
    )
    pass_valid_days = models.PositiveSmallIntegerField(_("pass valid for days"), default=30)
    for_household = models.BooleanField(_("household members may use it"), default=True)
    active_from = models.DateTimeField(_("active from"), null=True, blank=True)
    active_until = models.DateTimeField(_("active until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["org__path", "kind", "name"]
        verbose_name = _("benefit")
        verbose_name_plural = _("benefits")

    def __str__(self):
        return self.name

    def is_open(self, moment) -> bool:
        if not self.is_active:
            return False
        if self.active_from and moment < self.active_from:
            return False
        return not (self.active_until and moment >= self.active_until)


class Slot(models.Model):
    """A bookable time slot of a resource. Until ``release_at`` it is held for holders whose balance is at
    least ``priority_min_points``; afterwards anyone who meets the benefit's minimum may book."""

    benefit = models.ForeignKey(Benefit, on_delete=models.PROTECT, related_name="slots")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveIntegerField(_("capacity"))
    booked = models.PositiveIntegerField(_("booked"), default=0)
    priority_min_points = models.PositiveIntegerField(_("held for balances of at least"), default=0)
    release_at = models.DateTimeField(_("released to everyone at"), null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(booked__lte=models.F("capacity")), name="points_slot_not_overbooked"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="points_slot_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["benefit", "starts_at"], name="points_slot_benefit_idx")]
        verbose_name = _("slot")
        verbose_name_plural = _("slots")

    def __str__(self):
        return f"{self.benefit} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def free(self) -> int:
        return self.capacity - self.booked

    def is_held(self, moment) -> bool:
        return bool(self.priority_min_points) and (self.release_at is None or moment < self.release_at)


class BookingStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CANCELLED = "cancelled", _("Cancelled")


class Booking(models.Model):
    """预约: a member books a slot for themself or for a household member."""

    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="bookings")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="bookings")
    household_member = models.ForeignKey(
        HouseholdMember,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("for household member"),
    )
    # "self" or "h<household id>": who uses the slot, so one person holds one place per slot.
    beneficiary_key = models.CharField(max_length=30)
    status = models.CharField(
        _("status"), max_length=12, choices=BookingStatus.choices, default=BookingStatus.BOOKED
    )
    spend = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("booked at"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "member", "beneficiary_key"],
                condition=Q(status="booked"),
                name="points_booking_once_per_person",
            ),
        ]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")

    def __str__(self):
        return f"{self.slot} · {self.member_id}"

    @property
    def beneficiary_name(self) -> str:
        return self.household_member.name if self.household_member_id else self.member.name


class PriorityPass(models.Model):
    """优先通行证: a code a member (or their household member) shows at a public service counter."""

    benefit = models.ForeignKey(Benefit, on_delete=models.PROTECT, related_name="passes")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="priority_passes")
    household_member = models.ForeignKey(
        HouseholdMember, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(max_length=20, unique=True)
    spend = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued"))
    valid_until = models.DateTimeField(_("valid until"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("priority pass")
        verbose_name_plural = _("priority passes")

    def __str__(self):
        return self.code

    @property
    def beneficiary_name(self) -> str:
        return self.household_member.name if self.household_member_id else self.member.name


class AdjustmentLimit(models.Model):
    """Per street: manual adjustments larger than this (either way) need a second street admin's approval."""

    org = models.OneToOneField(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("street"))
    approval_above = models.PositiveSmallIntegerField(_("second approval above (points)"), default=20)
    updated_at = models.DateTimeField(_("updated"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("adjustment limit")
        verbose_name_plural = _("adjustment limits")

    def __str__(self):
        return f"{self.org} > {self.approval_above}"


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a second admin")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected by a second admin")


class AdjustmentRequest(models.Model):
    """A manual adjustment above the street's limit, waiting for a second street admin."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=300)
    org_path = models.CharField(max_length=500, db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=AdjustmentStatus.choices, default=AdjustmentStatus.PENDING
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decision time"), null=True, blank=True)
    entry = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("adjustment request")
        verbose_name_plural = _("adjustment requests")

    def __str__(self):
        return f"{self.member} {self.points:+d} ({self.status})"
