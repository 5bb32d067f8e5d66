"""民情快办: categories with their SLA policies, cases, contractors, appointments, the timeline, feedback.

Milestone due times are stored columns (``CaseMilestone.due_at`` / ``warn_at`` / ``next_escalation_at``),
computed when the clock starts and moved only by a pause or an approved extension, so the worker's sweep
is an indexed range scan and a restarted worker loses no clock.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kangle.core.crypto import EncryptedTextField
from kangle.core.masking import mask_address, mask_name, mask_phone
from kangle.core.roles import Role
from kangle.orgs.models import OrgUnit


class ClockType(models.TextChoices):
    NATURAL = "natural", _("Natural hours")
    WORKING = "working", _("Working hours (public holidays and make-up workdays observed)")


class SlaPolicy(models.Model):
    """How fast a category of case must be handled: milestones, their clock, warnings, escalation."""

    # A revision is a new row with the same code and the next version: clocks already running keep the
    # milestones (and so the policy version) they started with; categories point at the current version.
    code = models.CharField(_("code"), max_length=40)
    version = models.PositiveIntegerField(_("version"), default=1)
    is_current = models.BooleanField(_("current version"), default=True)
    revised_at = models.DateTimeField(_("revised"), null=True, blank=True)
    revised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("name"), max_length=100)
    clock_type = models.CharField(
        _("clock"), max_length=10, choices=ClockType.choices, default=ClockType.NATURAL
    )
    # Working hours of the working-hours clock (local time).
    work_start = models.TimeField(_("working day starts"), default=dt.time(9, 0))
    work_end = models.TimeField(_("working day ends"), default=dt.time(17, 0))
    # A warning is sent when this share of the allowed time has passed (0.75 = at 75%).
    warn_ratio = models.DecimalField(
        _("warn at share of time"), max_digits=3, decimal_places=2, default=Decimal("0.75")
    )
    # Who is told after a breach, in order, e.g. [{"role": "area_admin", "after_hours": 0},
    # {"role": "street_admin", "after_hours": 24}]: hours counted from the due time, on the policy's clock.
    escalation_chain = models.JSONField(_("escalation chain"), default=list, blank=True)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="cases_policy_code_version"),
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(is_current=True), name="cases_policy_one_current"
            ),
        ]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self):
        return self.name


class Milestone(models.Model):
    """A named deadline of a policy, counted from the report, met when the case reaches a status."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="milestones")
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    hours = models.PositiveIntegerField(_("hours allowed"))
    met_on = models.CharField(_("met when the case reaches"), max_length=20)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    # A rework milestone's clock starts when an unsatisfied rating reopens the case, not at the report.
    on_rework = models.BooleanField(_("counted from a reopening for rework"), default=False)

    class Meta:
        ordering = ["policy", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "code"], name="cases_milestone_code_per_policy")
        ]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")

    def __str__(self):
        return f"{self.name} ({self.hours}h)"


class CaseCategory(models.Model):
    """A kind of problem (白蚁, 漏水, …), in a tree; leaves are what residents pick and Open311's services."""

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
    policy = models.ForeignKey(
        SlaPolicy, on_delete=models.PROTECT, related_name="categories", verbose_name=_("SLA policy")
    )
    description = models.TextField(_("description"), blank=True)
    precautions = models.TextField(_("precautions for residents"), blank=True)
    prevention_tips = models.TextField(_("prevention tips"), blank=True)
    sort_order = models.IntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("case category")
        verbose_name_plural = _("case categories")

    def __str__(self):
        return self.name


class QuestionType(models.TextChoices):
    """GeoReport v2 attribute datatypes."""

    STRING = "string", _("Short text")
    TEXT = "text", _("Long text")
    NUMBER = "number", _("Numeric answer")
    DATETIME = "datetime", _("Date and time")
    SINGLE = "singlevaluelist", _("One of a list")
    MULTI = "multivaluelist", _("Several of a list")


class ServiceQuestion(models.Model):
    """A question a category asks when a case is reported (Open311's service attributes).

    ``values`` holds the choices of the list types as ``[{"key": "…", "name": "…"}, …]``."""

    category = models.ForeignKey(
        CaseCategory, on_delete=models.CASCADE, related_name="questions", verbose_name=_("category")
    )
    code = models.SlugField(_("code"), max_length=40)
    question = models.CharField(_("question"), max_length=200)
    datatype = models.CharField(_("answer type"), max_length=20, choices=QuestionType.choices)
    required = models.BooleanField(_("required"), default=False)
    values = models.JSONField(_("choices"), default=list, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["category", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="cases_question_code_per_category")
        ]
        verbose_name = _("service question")
        verbose_name_plural = _("service questions")

    def __str__(self):
        return f"{self.category_id}:{self.code}"

    @property
    def keys(self) -> list[str]:
        return [str(entry.get("key")) for entry in self.values or []]


class Contractor(models.Model):
    """专业组织: a company the office dispatches cases to, covering a part of the tree for some categories."""

    name = models.CharField(_("name"), max_length=100)
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("covers"))
    categories = models.ManyToManyField(
        CaseCategory, related_name="contractors", verbose_name=_("categories")
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="contractors", blank=True, verbose_name=_("staff")
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    priority = models.IntegerField(
        _("priority"), default=0, help_text=_("Higher is chosen first by default dispatch.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-priority", "name"]
        verbose_name = _("contractor")
        verbose_name_plural = _("contractors")

    def __str__(self):
        return self.name


class CaseStatus(models.TextChoices):
    REPORTED = "reported", _("Reported")
    ACCEPTED = "accepted", _("Accepted by the desk")
    DISPATCHED = "dispatched", _("Dispatched to a contractor")
    ASSIGNED = "assigned", _("Taken by the contractor")
    BOOKED = "booked", _("Visit booked")
    CONTACTED = "contacted", _("Resident contacted")
    ON_SITE = "on_site", _("On site")
    WORK_DONE = "work_done", _("Work done")
    REWORK = "rework", _("Reopened for rework")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class CaseStep(models.TextChoices):
    """The steps of the flow, named in messages that refuse one ("… is not allowed now")."""

    ACCEPT = "accept", _("Accept at the desk")
    DISPATCH = "dispatch", _("Dispatch")
    CONTRACTOR_ACCEPT = "contractor_accept", _("Accept the case")
    RETURN = "return", _("Return the case")
    BOOK = "book", _("Book a visit")
    CONTACT = "contact", _("Contact the resident")
    CHECK_IN = "check_in", _("Check in on site")
    STEP = "step", _("Record a work step")
    FINISH = "finish", _("Finish the work")
    FEEDBACK = "feedback", _("Give feedback")
    CLOSE = "close", _("Close the case")
    CANCEL = "cancel", _("Cancel the case")


# Progress order of the statuses: a milestone met on status S is met by any status at or past S.
STATUS_RANK = {
    CaseStatus.REPORTED: 0,
    CaseStatus.ACCEPTED: 1,
    CaseStatus.DISPATCHED: 2,
    CaseStatus.ASSIGNED: 3,
    CaseStatus.BOOKED: 4,
    CaseStatus.CONTACTED: 5,
    CaseStatus.ON_SITE: 6,
    CaseStatus.WORK_DONE: 7,
    CaseStatus.CLOSED: 8,
    CaseStatus.REWORK: 3,
    CaseStatus.CANCELLED: -1,
}
OPEN_STATUSES = [s for s in CaseStatus.values if s not in (CaseStatus.CLOSED, CaseStatus.CANCELLED)]


class Channel(models.TextChoices):
    WALK_IN = "walk_in", _("Walk-in at the workstation")
    PHONE_CALL = "phone_call", _("Phone call")
    ONLINE = "online", _("Online by the resident")
    GRID_PATROL = "grid_patrol", _("Grid patrol")
    PREVENTION = "prevention", _("Prevention monitoring")
    OPEN311 = "open311", _("Open311 integration")


class Case(models.Model):
    """A resident's problem, from report to close. ``org`` is where it is (community, estate or building)."""

    number = models.CharField(_("case number"), max_length=20, unique=True)
    category = models.ForeignKey(
        CaseCategory, on_delete=models.PROTECT, related_name="cases", verbose_name=_("category")
    )
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("place"))
    status = models.CharField(
        _("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.REPORTED
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_cases",
        verbose_name=_("reported by (account)"),
    )
    resident_name = EncryptedTextField(_("resident's name"), blank=True, default="")
    phone = EncryptedTextField(_("resident's phone"), blank=True, default="")
    address = EncryptedTextField(_("address"), blank=True, default="")
    # The masked forms lists show (138****1234, 康健路135弄****), stored when the case is reported so a list
    # decrypts nothing.
    phone_mask = models.CharField(max_length=20, blank=True, default="", editable=False)
    address_mask = models.CharField(max_length=20, blank=True, default="", editable=False)
    # A keyed hash of the normalised address + category, for the duplicate hint (exact match).
    address_hash = models.CharField(max_length=64, blank=True)  # indexed by cases_case_address_recent_idx
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    # Answers to the category's questions, by question code (a list for the several-of-a-list type).
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    # A link to a photo or video held elsewhere (Open311's media_url), kept as given.
    media_url = models.URLField(_("media link"), max_length=1000, blank=True)
    contractor = models.ForeignKey(
        Contractor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("contractor"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_at = models.DateTimeField(_("reported"), db_index=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    rework_count = models.PositiveSmallIntegerField(default=0)
    # Bumped by every transition: a page posting a stale form is refused instead of undoing someone's step.
    version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-reported_at", "-id"]
        indexes = [
            # The default list: open cases, newest first (the desk queue, the API's ?status=open).
            models.Index(
                models.F("reported_at").desc(),
                models.F("id").desc(),
                name="cases_case_open_recent_idx",
                condition=models.Q(status__in=OPEN_STATUSES),
            ),
            # The count of a subtree's open cases (the desk queue's "1000+"): the open cases' units alone, read
            # index-only and merged with the subtree's units, instead of the open cases' rows.
            models.Index(
                fields=["org"], name="cases_case_open_org_idx", condition=models.Q(status__in=OPEN_STATUSES)
            ),
            models.Index(fields=["status", "reported_at"], name="cases_case_status_idx"),
            models.Index(fields=["contractor", "status"], name="cases_case_contractor_idx"),
            # The duplicate hint (intake.open_duplicates): an address's cases, newest first, so a busy address
            # (a building reported again and again) gives its five open ones without reading all of them. Not
            # partial: a prepared statement's generic plan, with the statuses as parameters, could not use it.
            models.Index(
                "address_hash",
                models.F("reported_at").desc(),
                models.F("id").desc(),
                name="cases_case_address_recent_idx",
            ),
        ]
        verbose_name = _("case")
        verbose_name_plural = _("cases")

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def masked_phone(self) -> str:
        return self.phone_mask or mask_phone(self.phone)

    @property
    def masked_name(self) -> str:
        return mask_name(self.resident_name)

    @property
    def masked_address(self) -> str:
        return self.address_mask or mask_address(self.address)


class MilestoneState(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met on time")
    BREACHED = "breached", _("Breached")
    MET_LATE = "met_late", _("Met late")
    CANCELLED = "cancelled", _("Stopped (case cancelled)")


class CaseMilestone(models.Model):
    """One milestone's clock on one case. The sweep reads ``warn_at``, ``due_at`` and ``next_escalation_at``.

    Each is NULL once its event is done (or while the case is paused), so the indexes hold only live clocks.
    """

    # No index of its own on ``case``: the unique (case, milestone, round) constraint leads with it, and every
    # index more is one more write for each clock change the sweep makes.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="milestones", db_index=False)
    # No index: only deleting a policy version reads clocks by milestone (a rare street admin's step, a scan
    # then), while every clock change the sweep makes would write one more index entry.
    milestone = models.ForeignKey(Milestone, on_delete=models.PROTECT, related_name="+", db_index=False)
    # The case's unit, copied when the clock starts (a case never changes unit). The to-do home's clock lines
    # test a clock's place in the person's part of the tree on the clock itself instead of reading its case
    # for every clock they count. No index: nothing reads clocks by unit.
    org = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", db_index=False)
    # 0 for the clocks started at the report; n for the clocks of the n-th reopening for rework.
    round = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=10, choices=MilestoneState.choices, default=MilestoneState.RUNNING)
    started_at = models.DateTimeField()
    # The current deadline (kept while paused in ``deadline`` so the page can show it).
    deadline = models.DateTimeField(_("due"))
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    # Clock seconds left when paused; the deadline is recomputed from it on resume.
    remaining_seconds = models.BigIntegerField(null=True, blank=True)
    extended_hours = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["case", "round", "milestone__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "milestone", "round"], name="cases_one_clock_per_milestone_round"
            )
        ]
        indexes = [
            models.Index(
                fields=["due_at"], name="cases_cm_due_idx", condition=models.Q(due_at__isnull=False)
            ),
            # The sweep claims clocks by warning time; the to-do home's "due soon" line asks for clocks whose
            # warning time has passed and whose due time has not, both answered inside this index.
            models.Index(
                fields=["warn_at", "due_at"],
                name="cases_cm_warn_idx",
                condition=models.Q(warn_at__isnull=False),
            ),
            models.Index(
                fields=["next_escalation_at"],
                name="cases_cm_escalate_idx",
                condition=models.Q(next_escalation_at__isnull=False),
            ),
            # The to-do home's clock lines (selectors.overdue_attention / warning_attention): clocks that
            # need someone now, few however many cases there are, in the order the lines read them.
            models.Index(
                fields=["deadline"],
                name="cases_cm_breached_idx",
                condition=models.Q(state=MilestoneState.BREACHED),
            ),
            models.Index(
                fields=["due_at"],
                name="cases_cm_warned_idx",
                condition=models.Q(state=MilestoneState.RUNNING, warned_at__isnull=False),
            ),
        ]
        verbose_name = _("case milestone")
        verbose_name_plural = _("case milestones")

    def __str__(self):
        return f"{self.case_id}:{self.milestone_id} {self.state}"

    @property
    def is_live(self) -> bool:
        return self.state in (MilestoneState.RUNNING, MilestoneState.PAUSED, MilestoneState.BREACHED)


class Escalation(models.Model):
    """One escalation of one breached milestone to one level of the chain: unique, so never sent twice."""

    # Served by the unique (case_milestone, level) constraint, which leads with it.
    case_milestone = models.ForeignKey(
        CaseMilestone, on_delete=models.CASCADE, related_name="escalations", db_index=False
    )
    level = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=32, choices=Role.choices)
    at = models.DateTimeField()
    worker_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case_milestone", "level"], name="cases_escalate_once_per_level")
        ]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")

    def __str__(self):
        return f"{self.case_milestone_id} L{self.level} {self.role}"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    REPLACED = "replaced", _("Replaced by a new slot")
    ATTENDED = "attended", _("Attended")
    CANCELLED = "cancelled", _("Cancelled")


class Appointment(models.Model):
    """上门预约: a time slot agreed with the resident."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="appointments")
    slot_start = models.DateTimeField(_("from"))
    slot_end = models.DateTimeField(_("to"))
    status = models.CharField(
        max_length=10, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    booked_at = models.DateTimeField()
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-slot_start", "-id"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")

    def __str__(self):
        return f"{self.case_id} {self.slot_start:%Y-%m-%d %H:%M}"


class EventKind(models.TextChoices):
    REPORTED = "reported", _("Reported")
    ACCEPTED = "accepted", _("Accepted by the desk")
    DISPATCHED = "dispatched", _("Dispatched")
    CONTRACTOR_ACCEPTED = "contractor_accepted", _("Contractor accepted")
    RETURNED = "returned", _("Returned by the contractor")
    BOOKED = "booked", _("Visit booked")
    CONTACTED = "contacted", _("Resident contacted")
    CHECKED_IN = "checked_in", _("Checked in on site")
    STEP = "step", _("Work step")
    WORK_DONE = "work_done", _("Work done")
    FEEDBACK = "feedback", _("Resident feedback")
    REOPENED = "reopened", _("Reopened for rework")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")
    PAUSED = "paused", _("Clock paused")
    RESUMED = "resumed", _("Clock resumed")
    EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
    EXTENSION_DECIDED = "extension_decided", _("Extension decided")
    MILESTONE_MET = "milestone_met", _("Milestone met")
    WARNED = "warned", _("Deadline warning")
    BREACHED = "breached", _("Deadline breached")
    ESCALATED = "escalated", _("Escalated")
    NOTE = "note", _("Note")


class WorkStep(models.TextChoices):
    SURVEY = "survey", _("Survey")
    NEST_LOCATED = "nest_located", _("Nest located")
    TREATED = "treated", _("Treated")
    CLEANED_UP = "cleaned_up", _("Cleaned up")
    PREVENTION_EXPLAINED = "prevention_explained", _("Prevention explained")
    OTHER = "other", _("Other")


class CaseEvent(models.Model):
    """处置过程记录: one line of the case's timeline — who, when, what."""

    # Served by the (case, at) index, which leads with it.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    # Indexed only where set (``cases_event_actor_idx``): the sweep writes thousands of events without one.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # No index of its own: every reader takes one case's events, which the (case, at) index serves.
    at = models.DateTimeField()
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    step = models.CharField(max_length=24, choices=WorkStep.choices, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Shown on the resident's tracking page (internal notes and escalations are not).
    public = models.BooleanField(default=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["case", "at"], name="cases_event_case_at_idx"),
            models.Index(
                fields=["actor"], name="cases_event_actor_idx", condition=models.Q(actor__isnull=False)
            ),
        ]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")

    def __str__(self):
        return f"{self.case_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class CasePhoto(models.Model):
    """A photo of a case (report, check-in, work step), stored under MEDIA_ROOT, served by permission."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey(
        CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    file = models.FileField(upload_to="cases/%Y/%m/", max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("case photo")
        verbose_name_plural = _("case photos")

    def __str__(self):
        return f"{self.case_id} {self.file.name}"


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ExtensionRequest(models.Model):
    """A contractor asks for more time on a milestone; the area admin approves or rejects."""

    case_milestone = models.ForeignKey(CaseMilestone, on_delete=models.CASCADE, related_name="extensions")
    hours = models.PositiveIntegerField(_("extra hours"))
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(max_length=10, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")

    def __str__(self):
        return f"{self.case_milestone_id} +{self.hours}h {self.status}"


class Feedback(models.Model):
    """回访 / 满意度: the resident's verdict on the work."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="feedback")
    satisfied = models.BooleanField(_("satisfied"))
    rating = models.PositiveSmallIntegerField(_("rating (1–5)"))
    comment = models.TextField(_("comment"), blank=True)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    given_at = models.DateTimeField()

    class Meta:
        ordering = ["-given_at"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")

    def __str__(self):
        return f"{self.case_id} {self.rating}★"
