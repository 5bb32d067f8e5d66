"""Stopping and stretching the clocks: pause, resume, extension requests and decisions, and cancelling."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kangle.cases import clock, permissions
from kangle.cases.models import (
    Appointment,
    AppointmentStatus,
    Case,
    CaseMilestone,
    EventKind,
    ExtensionRequest,
    ExtensionStatus,
    MilestoneState,
)
from kangle.cases.services.clocks import milestone_escalation_at
from kangle.cases.services.common import (
    case_lock,
    case_move,
    contractor_require,
    desk_require,
    desk_users,
    event_write,
    resident_notify,
    transition_check,
    users_notify,
)
from kangle.core import audit, cleaners
from kangle.core.errors import NotAllowed, UserError
from kangle.core.roles import Role
from kangle.core.timeutil import resolve_now

MAX_EXTENSION_HOURS = 168


@transaction.atomic
def case_cancel(*, actor, case: Case, reason: str, now: dt.datetime | None = None) -> Case:
    moment = resolve_now(now)
    case = case_lock(case)
    desk_require(actor, case)
    target = transition_check(case, "cancel")
    reason = cleaners.text(reason, field="reason", label=_("Reason for cancelling"), max_length=300)
    before = case.status
    case_move(case, target, now=moment, extra={"closed_at": moment, "paused_at": None})
    CaseMilestone.objects.filter(case=case, met_at__isnull=True).update(
        state=MilestoneState.CANCELLED,
        due_at=None,
        warn_at=None,
        next_escalation_at=None,
        remaining_seconds=None,
    )
    Appointment.objects.filter(case=case, status=AppointmentStatus.BOOKED).update(
        status=AppointmentStatus.CANCELLED
    )
    event_write(
        case, EventKind.CANCELLED, actor=actor, now=moment, from_status=before, to_status=target, note=reason
    )
    audit.record(actor=actor, verb="case.cancel", obj=case, details={"reason": reason}, now=moment)
    resident_notify(
        case,
        _("Case %(number)s has been cancelled"),
        "%(reason)s",
        params={"number": case.number, "reason": reason},
        now=moment,
    )
    return case


@transaction.atomic
def case_pause(*, actor, case: Case, reason: str, now: dt.datetime | None = None) -> Case:
    """Stop the running clocks (e.g. waiting for the resident); breached clocks keep escalating."""
    moment = resolve_now(now)
    case = case_lock(case)
    if not permissions.is_contractor_for(actor, case):
        desk_require(actor, case)
    if not case.is_open:
        transition_check(case, "cancel")  # raises the not-allowed message for a closed case
    if case.is_paused:
        raise UserError("already_paused", _("The clock is already paused"), field="status", status=409)
    reason = cleaners.text(reason, field="reason", label=_("Reason for pausing"), max_length=300)
    paused = []
    for row in (
        CaseMilestone.objects.select_for_update(of=("self",))
        .select_related("milestone__policy")
        .filter(case=case, state=MilestoneState.RUNNING)
    ):
        # Each clock runs on the policy version in force when it started, never on a later revision.
        policy = row.milestone.policy
        remaining = clock.policy_between(policy, moment, row.deadline)
        CaseMilestone.objects.filter(pk=row.pk, state=MilestoneState.RUNNING).update(
            state=MilestoneState.PAUSED,
            remaining_seconds=int(remaining),
            due_at=None,
            warn_at=None,
            next_escalation_at=None,
        )
        paused.append(
            {
                "milestone": row.milestone_id,
                "remaining_seconds": int(remaining),
                "deadline": row.deadline.isoformat(),
            }
        )
    Case.objects.filter(pk=case.pk).update(paused_at=moment, version=F("version") + 1)
    case.paused_at = moment
    event_write(case, EventKind.PAUSED, actor=actor, now=moment, note=reason, data={"clocks": paused})
    audit.record(
        actor=actor, verb="case.pause", obj=case, details={"reason": reason, "clocks": paused}, now=moment
    )
    return case


@transaction.atomic
def case_resume(*, actor, case: Case, now: dt.datetime | None = None) -> Case:
    moment = resolve_now(now)
    case = case_lock(case)
    if not permissions.is_contractor_for(actor, case):
        desk_require(actor, case)
    if not case.is_paused:
        raise UserError("not_paused", _("The clock is not paused"), field="status", status=409)
    moved = []
    for row in (
        CaseMilestone.objects.select_for_update(of=("self",))
        .select_related("milestone__policy")
        .filter(case=case, state=MilestoneState.PAUSED)
    ):
        policy = row.milestone.policy
        deadline = clock.policy_add(policy, moment, max(row.remaining_seconds or 0, 0))
        warn_at = None
        if row.warned_at is None:
            total = (row.milestone.hours + row.extended_hours) * 3600
            before_warn = (row.remaining_seconds or 0) - total * (1 - float(policy.warn_ratio))
            warn_at = clock.policy_add(policy, moment, max(before_warn, 0))
        CaseMilestone.objects.filter(pk=row.pk, state=MilestoneState.PAUSED).update(
            state=MilestoneState.RUNNING,
            deadline=deadline,
            due_at=deadline,
            warn_at=warn_at,
            next_escalation_at=milestone_escalation_at(policy, deadline, row.escalation_level),
            remaining_seconds=None,
        )
        moved.append(
            {"milestone": row.milestone_id, "from": row.deadline.isoformat(), "to": deadline.isoformat()}
        )
    paused_for = int((moment - case.paused_at).total_seconds())
    Case.objects.filter(pk=case.pk).update(paused_at=None, version=F("version") + 1)
    case.paused_at = None
    event_write(
        case, EventKind.RESUMED, actor=actor, now=moment, data={"clocks": moved, "paused_seconds": paused_for}
    )
    audit.record(
        actor=actor,
        verb="case.resume",
        obj=case,
        details={"clocks": moved, "paused_seconds": paused_for},
        now=moment,
    )
    return case


@transaction.atomic
def extension_request(
    *, actor, case: Case, milestone_code: str, hours: int, reason: str, now: dt.datetime | None = None
) -> ExtensionRequest:
    moment = resolve_now(now)
    case = case_lock(case)
    contractor_require(actor, case)
    row = (
        CaseMilestone.objects.filter(case=case, milestone__code=milestone_code)
        .select_related("milestone")
        .order_by("-round")
        .first()
    )
    if row is None:
        raise UserError("unknown_milestone", _("No such milestone on this case"), field="milestone")
    if row.state not in (MilestoneState.RUNNING, MilestoneState.PAUSED):
        raise UserError(
            "milestone_not_running",
            _("This milestone is already met or breached; it cannot be extended"),
            field="milestone",
            status=409,
        )
    if not 1 <= hours <= MAX_EXTENSION_HOURS:
        raise UserError(
            "invalid_hours",
            _("The extension must be 1 to %(max_extension_hours)s hours"),
            field="hours",
            max_extension_hours=MAX_EXTENSION_HOURS,
        )
    if ExtensionRequest.objects.filter(case_milestone=row, status=ExtensionStatus.PENDING).exists():
        raise UserError(
            "extension_pending", _("An extension request is already pending"), field="milestone", status=409
        )
    reason = cleaners.text(reason, field="reason", label=_("Reason for the extension"), max_length=300)
    request = ExtensionRequest.objects.create(
        case_milestone=row, hours=hours, reason=reason, requested_by=actor, requested_at=moment
    )
    event_write(
        case,
        EventKind.EXTENSION_REQUESTED,
        actor=actor,
        now=moment,
        note=reason,
        data={"milestone": milestone_code, "hours": hours},
        public=False,
    )
    audit.record(
        actor=actor,
        verb="case.extension_request",
        obj=case,
        details={"milestone": milestone_code, "hours": hours, "reason": reason},
        now=moment,
    )
    users_notify(
        desk_users(case, roles=(Role.AREA_ADMIN,)),
        _("Case %(number)s asks for %(hours)s more hours"),
        "%(reason)s",
        f"/cases/desk/{case.number}/",
        params={"number": case.number, "hours": hours, "reason": reason},
        now=moment,
        sms=False,
    )
    return request


@transaction.atomic
def extension_decide(
    *, actor, request: ExtensionRequest, approve: bool, now: dt.datetime | None = None
) -> ExtensionRequest:
    """The area admin approves (the deadline moves on the policy's clock) or rejects an extension."""
    moment = resolve_now(now)
    request = ExtensionRequest.objects.select_for_update().select_related("case_milestone").get(pk=request.pk)
    case = case_lock(request.case_milestone.case)
    if not permissions.can_view_case_as_staff(actor, case):
        raise Http404
    if not permissions.can_decide_extension(actor, case):
        raise NotAllowed(_("Only an area or street admin may decide on extensions"))
    if request.status != ExtensionStatus.PENDING:
        raise UserError("already_decided", _("This extension request has already been decided"), status=409)
    row = (
        CaseMilestone.objects.select_for_update(of=("self",))
        .select_related("milestone__policy")
        .get(pk=request.case_milestone_id)
    )
    details = {"milestone": row.milestone_id, "hours": request.hours, "approved": bool(approve)}
    if approve:
        if row.state not in (MilestoneState.RUNNING, MilestoneState.PAUSED):
            raise UserError(
                "milestone_not_running",
                _("This milestone is already met or breached; it cannot be extended"),
                status=409,
            )
        policy = row.milestone.policy
        new_deadline = clock.policy_add(policy, row.deadline, request.hours * 3600)
        changes = {"deadline": new_deadline, "extended_hours": row.extended_hours + request.hours}
        if row.state == MilestoneState.RUNNING:
            changes["due_at"] = new_deadline
            changes["next_escalation_at"] = milestone_escalation_at(
                policy, new_deadline, row.escalation_level
            )
            if row.warned_at is None and row.warn_at is not None:
                changes["warn_at"] = clock.policy_add(policy, row.warn_at, request.hours * 3600)
        else:
            changes["remaining_seconds"] = (row.remaining_seconds or 0) + request.hours * 3600
        CaseMilestone.objects.filter(pk=row.pk).update(**changes)
        details.update({"from": row.deadline.isoformat(), "to": new_deadline.isoformat()})
    ExtensionRequest.objects.filter(pk=request.pk).update(
        status=ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED,
        decided_by=actor,
        decided_at=moment,
    )
    request.refresh_from_db()
    event_write(
        case,
        EventKind.EXTENSION_DECIDED,
        actor=actor,
        now=moment,
        data=details,
        public=False,
        note="批准" if approve else "驳回",
    )
    audit.record(actor=actor, verb="case.extension_decide", obj=case, details=details, now=moment)
    return request
