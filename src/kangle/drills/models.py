"""平安守护 drill register: care homes and their residents' mobility, drill plans with teams and named
assignments, drills with observers and timings, findings with follow-up actions, micro fire station
contest results.

A care home is a ``Venue`` of kind ``care_home``; ``CareHome`` adds what a drill needs to know about it.
Counts only, never medical files: how many residents walk, need help, use a wheelchair, need a stretcher.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kangle.orgs.models import Venue


class Mobility(models.TextChoices):
    WALKS = "walks", _("Walks unaided")
    NEEDS_HELP = "needs_help", _("Walks with help")
    WHEELCHAIR = "wheelchair", _("Wheelchair")
    STRETCHER = "stretcher", _("Stretcher")


class CareHome(models.Model):
    venue = models.OneToOneField(Venue, on_delete=models.PROTECT, related_name="care_home")
    # The venue's unit path, kept on the row for the scope filter (an indexed prefix).
    org_path = models.CharField(max_length=500, db_index=True)
    walks = models.PositiveIntegerField(_("residents who walk unaided"), default=0)
    needs_help = models.PositiveIntegerField(_("residents who walk with help"), default=0)
    wheelchair = models.PositiveIntegerField(_("residents in wheelchairs"), default=0)
    stretcher = models.PositiveIntegerField(_("residents who need a stretcher"), default=0)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["org_path", "id"]
        verbose_name = _("care home")
        verbose_name_plural = _("care homes")

    def __str__(self):
        return self.venue.name

    @property
    def residents(self) -> int:
        return self.walks + self.needs_help + self.wheelchair + self.stretcher


class ResidentGroup(models.Model):
    """A group of residents moved together (e.g. 二楼东侧卧床长者), by mobility."""

    home = models.ForeignKey(CareHome, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(_("group"), max_length=100)
    mobility = models.CharField(_("mobility"), max_length=12, choices=Mobility.choices)
    count = models.PositiveIntegerField(_("residents"))

    class Meta:
        ordering = ["home", "id"]
        verbose_name = _("resident group")
        verbose_name_plural = _("resident groups")

    def __str__(self):
        return self.name


class TeamKind(models.TextChoices):
    COMMS = "comms", _("Communications (calls the fire service)")
    MICRO_STATION = "micro_station", _("Micro fire station (first response)")
    ESCORT = "escort", _("Social workers and carers (escort)")
    MEDICAL = "medical", _("Medical standby")
    OTHER = "other", _("Other")


class DrillPlan(models.Model):
    home = models.ForeignKey(CareHome, on_delete=models.PROTECT, related_name="plans")
    title = models.CharField(_("title"), max_length=100)
    scenario = models.CharField(_("scenario"), max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("drill plan")
        verbose_name_plural = _("drill plans")

    def __str__(self):
        return self.title


class PlanTeam(models.Model):
    plan = models.ForeignKey(DrillPlan, on_delete=models.CASCADE, related_name="teams")
    kind = models.CharField(_("team"), max_length=16, choices=TeamKind.choices)
    leader = models.CharField(_("leader"), max_length=50)
    members = models.CharField(_("team members"), max_length=300, blank=True)

    class Meta:
        ordering = ["plan", "id"]
        verbose_name = _("plan team")
        verbose_name_plural = _("plan teams")

    def __str__(self):
        return f"{self.get_kind_display()} · {self.leader}"


class Assignment(models.Model):
    """Who moves whom by which route: a named person of a team, a resident group of the home, a route."""

    plan = models.ForeignKey(DrillPlan, on_delete=models.CASCADE, related_name="assignments")
    team = models.ForeignKey(PlanTeam, on_delete=models.CASCADE, related_name="assignments")
    person = models.CharField(_("who"), max_length=50)
    group = models.ForeignKey(ResidentGroup, on_delete=models.PROTECT, related_name="assignments")
    route = models.CharField(_("route"), max_length=200)

    class Meta:
        ordering = ["plan", "id"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")

    def __str__(self):
        return f"{self.person} → {self.group}"


class Drill(models.Model):
    """The drill itself. Timings are filled in after it, in order: alarm → first response → last resident
    out → roll call."""

    plan = models.ForeignKey(DrillPlan, on_delete=models.PROTECT, related_name="drills")
    home = models.ForeignKey(CareHome, on_delete=models.PROTECT, related_name="drills")
    held_on = models.DateField(_("held on"), db_index=True)
    scenario = models.CharField(_("scenario"), max_length=300)
    alarm_at = models.DateTimeField(_("alarm"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    last_out_at = models.DateTimeField(_("last resident out"), null=True, blank=True)
    roll_call_at = models.DateTimeField(_("roll call done"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("drill")
        verbose_name_plural = _("drills")

    def __str__(self):
        return f"{self.home} {self.held_on:%Y-%m-%d}"

    @property
    def evacuation_seconds(self) -> int | None:
        if self.alarm_at is None or self.last_out_at is None:
            return None
        return int((self.last_out_at - self.alarm_at).total_seconds())


class Department(models.TextChoices):
    CIVIL_AFFAIRS = "civil_affairs", _("Civil affairs bureau")
    EMERGENCY = "emergency", _("Emergency management bureau")
    FIRE = "fire", _("Fire and rescue")
    STREET = "street", _("Sub-district office")
    OTHER = "other", _("Other")


class Observer(models.Model):
    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="observers")
    department = models.CharField(_("department"), max_length=16, choices=Department.choices)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["drill", "id"]
        verbose_name = _("observer")
        verbose_name_plural = _("observers")

    def __str__(self):
        return self.name


class DrillFinding(models.Model):
    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="findings")
    text = models.CharField(_("what the drill showed"), max_length=500)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["drill", "id"]
        verbose_name = _("drill finding")
        verbose_name_plural = _("drill findings")

    def __str__(self):
        return self.text[:40]


class FollowUp(models.Model):
    """A follow-up action of a finding: what, who answers for it, by when; open until marked done."""

    finding = models.ForeignKey(DrillFinding, on_delete=models.CASCADE, related_name="follow_ups")
    # Kept on the row so open follow-ups under a node are one indexed query.
    org_path = models.CharField(max_length=500, db_index=True)
    action = models.CharField(_("action"), max_length=300)
    owner = models.CharField(_("owner"), max_length=100)
    due_on = models.DateField(_("due by"), db_index=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("follow-up action")
        verbose_name_plural = _("follow-up actions")

    def __str__(self):
        return self.action[:40]


class ContestResult(models.Model):
    """微型消防站比武: one team's result in one event (e.g. 穿着战斗服, 一带一枪) after a drill."""

    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="contest_results")
    team = models.CharField(_("team"), max_length=100)
    event = models.CharField(_("event"), max_length=100)
    seconds = models.DecimalField(_("time (seconds)"), max_digits=7, decimal_places=2)
    rank = models.PositiveSmallIntegerField(_("rank"))

    class Meta:
        ordering = ["drill", "event", "rank"]
        verbose_name = _("contest result")
        verbose_name_plural = _("contest results")

    def __str__(self):
        return f"{self.event} {self.team} #{self.rank}"
