from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """Who did what to which object, when — written explicitly by every service that changes state."""

    # Indexed only where set (``core_audit_actor_idx``): the SLA sweep writes its rows without an actor.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    verb = models.CharField(_("verb"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    # The organisation path of the object, so an audit view can be scoped like everything else.
    org_path = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(_("when"), db_index=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        # ``verb`` and ``org_path`` are read by equality and by prefix (``startswith``): one pattern-ops index
        # each serves both on PostgreSQL, where ``db_index=True`` would build two (plain and ``_like``) and
        # make every audit row, thousands per sweep page, write both.
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["verb"], name="core_audit_verb_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(
                fields=["org_path"], name="core_audit_org_path_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["actor"], name="core_audit_actor_idx", condition=models.Q(actor__isnull=False)
            ),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.verb} {self.object_type}:{self.object_id}"


class WorkerHeartbeat(models.Model):
    """One row per running `kangle worker`, refreshed by the worker; staff see which workers are alive."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=200)
    pid = models.IntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)
    jobs_run = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("worker")
        verbose_name_plural = _("workers")

    def __str__(self):
        return f"{self.hostname}:{self.pid}"


class CalendarSource(models.TextChoices):
    PACKAGE = "package", _("Published calendar (chinesecalendar package)")
    MANUAL = "manual", _("Entered by hand")


class CalendarYear(models.Model):
    """A year whose public holidays and make-up workdays are known; working-hour clocks need one per year."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(_("source"), max_length=10, choices=CalendarSource.choices)
    updated_at = models.DateTimeField(_("updated"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-year"]
        verbose_name = _("holiday calendar year")
        verbose_name_plural = _("holiday calendar years")

    def __str__(self):
        return str(self.year)


class CalendarDay(models.Model):
    """A day that breaks the Monday–Friday rule: a holiday on a weekday or a make-up workday (调休) at a weekend."""

    calendar_year = models.ForeignKey(CalendarYear, on_delete=models.CASCADE, related_name="days")
    day = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("workday"))
    name = models.CharField(_("name"), max_length=50, blank=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self):
        return f"{self.day} {'workday' if self.is_workday else 'holiday'}"


class Throttle(models.Model):
    """One counter per (scope, key) for every rate limit and lockout: login failures, case tracking,
    registration checks, SMS codes. ``kangle.core.throttle`` changes it only with single atomic statements,
    so parallel requests cannot read a stale count."""

    scope = models.CharField(max_length=32)
    # A keyed hash: the key may be a phone number or an address, which is not stored in clear.
    key_hash = models.CharField(max_length=64)
    hits = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key_hash"], name="core_throttle_one_per_key")
        ]
        verbose_name = _("throttle")
        verbose_name_plural = _("throttles")

    def __str__(self):
        return f"{self.scope}: {self.hits}"
