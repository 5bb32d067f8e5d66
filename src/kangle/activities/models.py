"""Themed activities (主题活动) with sign-up, QR check-in and check-out; whistle calls (社区吹哨)
with individual
and collective responses (党员报到); service records (服务记录) and their verification."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kangle.members.models import EmployerPartyOrg, HouseholdMember, Member, Skill
from kangle.orgs.models import OrgUnit, Venue
from kangle.posts.models import Claim, Post, PostSession, ServiceAspect


def new_qr_secret() -> str:
    return secrets.token_hex(16)


class ActivityStatus(models.TextChoices):
    OPEN = "open", _("Open for sign-up")
    CANCELLED = "cancelled", _("Cancelled")


class Activity(models.Model):
    """主题活动 (爱心益剪, 夏送凉冬送暖 …). ``org`` is the organising node (community, area or street):
    staff of that subtree manage it and members living under it may sign up. ``confirmed_count`` is kept
    by the services
    under a row lock, so the capacity holds exactly under concurrency."""

    org = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="activities", verbose_name=_("organiser")
    )
    aspect = models.ForeignKey(
        ServiceAspect, on_delete=models.PROTECT, related_name="activities", verbose_name=_("aspect")
    )
    post = models.ForeignKey(
        Post,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
        verbose_name=_("post"),
    )
    venue = models.ForeignKey(
        Venue,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
        verbose_name=_("venue"),
    )
    title = models.CharField(_("title"), max_length=100)
    theme = models.CharField(_("theme"), max_length=50, blank=True)
    description = models.TextField(_("description"), blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveIntegerField(_("capacity"))
    # When sign-up opens for everyone; members with enough points (and their families) may start earlier,
    # as the street's early sign-up benefits say. Empty: open as soon as the activity is published.
    signup_opens_at = models.DateTimeField(_("sign-up opens"), null=True, blank=True)
    confirmed_count = models.PositiveIntegerField(default=0, editable=False)
    difficulty = models.PositiveSmallIntegerField(_("difficulty"), default=1)
    # A member may sign up a household member (家庭成员) as well: points give the family priority too.
    allows_family = models.BooleanField(_("family members may join"), default=False)
    beneficiary_count = models.PositiveIntegerField(_("beneficiaries (person-times)"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=ActivityStatus.choices, default=ActivityStatus.OPEN, db_index=True
    )
    qr_secret = models.CharField(max_length=64, default=new_qr_secret, editable=False)
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="activities_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="activities_capacity_positive"),
            models.CheckConstraint(
                condition=Q(confirmed_count__lte=F("capacity")), name="activities_signups_within_capacity"
            ),
            models.CheckConstraint(
                condition=Q(difficulty__gte=1, difficulty__lte=5), name="activities_difficulty_1_5"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "reminder_sent_at", "starts_at"], name="activities_reminder_idx")
        ]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")

    def __str__(self):
        return self.title

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.confirmed_count, 0)

    @property
    def phase_label(self) -> str:
        """What a list shows: an open activity is 报名中 only until it starts, then under way, then finished."""
        from django.utils import timezone
        from django.utils.translation import pgettext

        if self.status == ActivityStatus.CANCELLED:
            return str(self.get_status_display())
        moment = timezone.now()
        if moment >= self.ends_at:
            return pgettext("activity", "Finished")
        if moment >= self.starts_at:
            return pgettext("activity", "Under way")
        return str(self.get_status_display())


class SignupStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_SIGNUP_STATUSES = (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED)


class Signup(models.Model):
    """报名: one member on one activity, by themselves or in a team their employer Party organisation
    signed up.
    The waiting list is the waitlisted rows in (created_at, id) order."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="signups")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="activity_signups")
    party_org = models.ForeignKey(
        EmployerPartyOrg,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activity_signups",
        verbose_name=_("team of"),
    )
    # Set when the member signed up a household member: the place is theirs, the member answers for it.
    household_member = models.ForeignKey(
        HouseholdMember,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activity_signups",
        verbose_name=_("household member"),
    )
    status = models.CharField(_("status"), max_length=12, choices=SignupStatus.choices, db_index=True)
    created_at = models.DateTimeField(_("signed up"))
    promoted_at = models.DateTimeField(_("moved up"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "member"],
                condition=Q(status__in=["confirmed", "waitlisted"], household_member__isnull=True),
                name="activities_one_active_signup",
            ),
            models.UniqueConstraint(
                fields=["activity", "household_member"],
                condition=Q(status__in=["confirmed", "waitlisted"], household_member__isnull=False),
                name="activities_one_active_household_signup",
            ),
        ]
        indexes = [
            models.Index(fields=["activity", "status", "created_at"], name="activities_signup_queue_idx")
        ]
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")

    def __str__(self):
        return f"{self.member} → {self.activity}"


class Method(models.TextChoices):
    QR = "qr", _("QR code")
    STAFF = "staff", _("By staff")
    SELF = "self", _("By the member on their phone")


class Attendance(models.Model):
    """签到签退: one row per member and activity. ``present_minutes`` is the overlap of the time present with
    the activity's time, set at check-out; ``credited`` when that reaches the configured share."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attendances")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="attendances")
    signup = models.ForeignKey(Signup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    checked_in_at = models.DateTimeField(_("checked in"))
    check_in_method = models.CharField(max_length=10, choices=Method.choices)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    check_out_method = models.CharField(max_length=10, choices=Method.choices, blank=True)
    present_minutes = models.PositiveIntegerField(default=0)
    credited = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["checked_in_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "member"], name="activities_one_attendance_per_member"
            )
        ]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")

    def __str__(self):
        return f"{self.member} @ {self.activity}"


class SessionAttendance(models.Model):
    """签到签退 on a session of a post the member holds (an active claim): like an activity's attendance,
    ``present_minutes`` is the overlap with the session, set at check-out."""

    session = models.ForeignKey(PostSession, on_delete=models.CASCADE, related_name="attendances")
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="session_attendances")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="session_attendances")
    checked_in_at = models.DateTimeField(_("checked in"))
    check_in_method = models.CharField(max_length=10, choices=Method.choices)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    check_out_method = models.CharField(max_length=10, choices=Method.choices, blank=True)
    present_minutes = models.PositiveIntegerField(default=0)
    credited = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["checked_in_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "member"], name="activities_one_session_attendance")
        ]
        verbose_name = _("session attendance")
        verbose_name_plural = _("session attendances")

    def __str__(self):
        return f"{self.member_id}@{self.session_id}"


class CallStatus(models.TextChoices):
    OPEN = "open", _("Taking reports")
    CLOSED = "closed", _("Call closed")


class WhistleCall(models.Model):
    """社区吹哨: a need posted by a community secretary or grid leader. ``org`` is where it was blown (the
    community or the grid); ``grids`` narrow who is asked (none: the whole ``org``)."""

    org = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="whistle_calls", verbose_name=_("unit")
    )
    aspect = models.ForeignKey(
        ServiceAspect,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="whistle_calls",
        verbose_name=_("aspect"),
    )
    title = models.CharField(_("what is needed"), max_length=100)
    description = models.TextField(_("details"), blank=True)
    place = models.CharField(_("where"), max_length=200)
    starts_at = models.DateTimeField(_("when"))
    ends_at = models.DateTimeField(_("until"))
    people_needed = models.PositiveIntegerField(_("people needed"))
    skills = models.ManyToManyField(Skill, blank=True, related_name="whistle_calls", verbose_name=_("skills"))
    grids = models.ManyToManyField(
        OrgUnit, blank=True, related_name="targeted_calls", verbose_name=_("grids")
    )
    deadline = models.DateTimeField(_("answer by"))
    status = models.CharField(
        _("status"), max_length=10, choices=CallStatus.choices, default=CallStatus.OPEN, db_index=True
    )
    responded_count = models.PositiveIntegerField(default=0, editable=False)
    outcome = models.TextField(_("outcome"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("blown"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="activities_call_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(people_needed__gte=1), name="activities_call_people_positive"),
        ]
        verbose_name = _("whistle call")
        verbose_name_plural = _("whistle calls")

    def __str__(self):
        return self.title

    @property
    def progress_percent(self) -> int:
        return min(100, int(self.responded_count * 100 / self.people_needed)) if self.people_needed else 0


class ResponseChannel(models.TextChoices):
    INDIVIDUAL = "individual", _("Individually")
    PARTY_ORG = "party_org", _("Collectively by the employer Party organisation")
    GRID = "grid", _("By the grid leader for the group")


class WhistleResponse(models.Model):
    """党员报到: one member answering one call. Collective reports write one row per named member and share a
    ``batch`` id; ``response_seconds`` is measured from the call being blown."""

    call = models.ForeignKey(WhistleCall, on_delete=models.CASCADE, related_name="responses")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="whistle_responses")
    channel = models.CharField(max_length=12, choices=ResponseChannel.choices)
    party_org = models.ForeignKey(
        EmployerPartyOrg, null=True, blank=True, on_delete=models.SET_NULL, related_name="whistle_responses"
    )
    batch = models.CharField(max_length=32, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    responded_at = models.DateTimeField(_("reported"))
    response_seconds = models.PositiveIntegerField(default=0)
    # The caller marks who turned up; being present makes the answer a service record.
    present_at = models.DateTimeField(_("marked present"), null=True, blank=True)
    marked_present_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["responded_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "member"], name="activities_one_response_per_member")
        ]
        verbose_name = _("whistle response")
        verbose_name_plural = _("whistle responses")

    def __str__(self):
        return f"{self.member} → {self.call}"


class RecordSource(models.TextChoices):
    ATTENDANCE = "attendance", _("Check-in and check-out")
    STAFF = "staff", _("Entered by staff")
    SELF = "self", _("Self-report")
    SESSION = "session", _("Post session check-in and check-out")
    WHISTLE = "whistle", _("Answered a whistle call, marked present")


SAFE_EXTENSIONS = frozenset({"jpg", "png", "webp", "gif"})


class RecordStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting verification")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    REVOKED = "revoked", _("Revoked")


def record_photo_path(instance, filename: str) -> str:
    # The name comes from the upload gate (random, with the extension of the sniffed type); only the
    # extension is kept, and only one the gate produces.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return f"service-records/{secrets.token_hex(12)}.{suffix if suffix in SAFE_EXTENSIONS else 'bin'}"


class ServiceRecord(models.Model):
    """服务记录: what a member did, when and for how long. ``org`` is the community (or organising node) that
    verifies it. Only a verified record earns points."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="service_records")
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    aspect = models.ForeignKey(
        ServiceAspect, on_delete=models.PROTECT, related_name="+", verbose_name=_("aspect")
    )
    source = models.CharField(_("source"), max_length=12, choices=RecordSource.choices)
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="service_records"
    )
    attendance = models.OneToOneField(
        Attendance, null=True, blank=True, on_delete=models.SET_NULL, related_name="service_record"
    )
    call = models.ForeignKey(
        WhistleCall, null=True, blank=True, on_delete=models.SET_NULL, related_name="service_records"
    )
    session_attendance = models.OneToOneField(
        SessionAttendance, null=True, blank=True, on_delete=models.SET_NULL, related_name="service_record"
    )
    whistle_response = models.OneToOneField(
        WhistleResponse, null=True, blank=True, on_delete=models.SET_NULL, related_name="service_record"
    )
    title = models.CharField(_("what was done"), max_length=100)
    started_at = models.DateTimeField(_("started"))
    minutes = models.PositiveIntegerField(_("minutes"))
    beneficiaries = models.PositiveIntegerField(_("beneficiaries"), default=0)
    difficulty = models.PositiveSmallIntegerField(_("difficulty"), default=1)
    photo = models.FileField(_("photo"), upload_to=record_photo_path, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RecordStatus.choices, default=RecordStatus.PENDING, db_index=True
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gte=1, minutes__lte=1440), name="activities_record_minutes"
            ),
            models.CheckConstraint(
                condition=Q(difficulty__gte=1, difficulty__lte=5), name="activities_record_difficulty_1_5"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "started_at"], name="activities_record_status_idx"),
            models.Index(fields=["member", "status"], name="activities_record_member_idx"),
        ]
        verbose_name = _("service record")
        verbose_name_plural = _("service records")

    def __str__(self):
        return self.title

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)
