"""Shared internals of the case services: the transition table, the locked row, timeline events, status
moves, notices, photos and the permission checks every step makes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db.models import F
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kangle.accounts.models import RoleAssignment
from kangle.cases import permissions
from kangle.cases.models import (
    STATUS_RANK,
    Case,
    CaseEvent,
    CaseMilestone,
    CasePhoto,
    CaseStatus,
    CaseStep,
    EventKind,
    MilestoneState,
)
from kangle.core.errors import NotAllowed, UserError
from kangle.core.roles import Role
from kangle.core.uploads import ValidatedImage
from kangle.notify.services import notify_user, queue_sms, sms_text

S = CaseStatus


# Which statuses each step may start from. Anything else is refused with a message naming both states.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "accept": ((S.REPORTED,), S.ACCEPTED),
    "dispatch": ((S.ACCEPTED,), S.DISPATCHED),
    "contractor_accept": ((S.DISPATCHED,), S.ASSIGNED),
    "return": ((S.DISPATCHED, S.ASSIGNED), S.ACCEPTED),
    "book": ((S.ASSIGNED, S.BOOKED, S.CONTACTED, S.REWORK), S.BOOKED),
    "contact": ((S.BOOKED,), S.CONTACTED),
    "check_in": ((S.BOOKED, S.CONTACTED), S.ON_SITE),
    "step": ((S.ON_SITE,), S.ON_SITE),
    "finish": ((S.ON_SITE,), S.WORK_DONE),
    "feedback": ((S.WORK_DONE,), S.CLOSED),
    "close": ((S.WORK_DONE,), S.CLOSED),
    "cancel": (tuple(s for s in S.values if s not in (S.CLOSED, S.CANCELLED)), S.CANCELLED),
}


def transition_check(case: Case, step: str) -> str:
    allowed, target = TRANSITIONS[step]
    if case.status not in allowed:
        raise UserError(
            "transition_not_allowed",
            _("The case is '%(state)s'; '%(step)s' is not allowed now"),
            field="status",
            status=409,
            state=S(case.status).label,
            step=CaseStep(step).label,
        )
    return target


def case_lock(case: Case) -> Case:
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("org", "category__policy", "contractor")
        .get(pk=case.pk)
    )


def event_write(
    case: Case,
    kind: str,
    *,
    actor,
    now: dt.datetime,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    step: str = "",
    data: dict | None = None,
    public: bool = True,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        at=now,
        from_status=from_status,
        to_status=to_status,
        note=note,
        step=step,
        data=data or {},
        public=public,
    )


def case_move(case: Case, target: str, *, now: dt.datetime, extra: dict | None = None) -> None:
    """Write the new status (and only the fields that change) and meet the milestones it reaches."""
    fields = {"status": target, "version": F("version") + 1, **(extra or {})}
    Case.objects.filter(pk=case.pk).update(**fields)
    for name, value in fields.items():
        if name != "version":
            setattr(case, name, value)
    case.version += 1
    if target != S.CANCELLED:
        milestones_meet(case, target, now=now)


def milestones_meet(case: Case, status: str, *, now: dt.datetime) -> None:
    rank = STATUS_RANK[status]
    if status == S.REWORK:
        return
    live = CaseMilestone.objects.filter(case=case, met_at__isnull=True).exclude(
        state=MilestoneState.CANCELLED
    )
    for clock_row in live.select_related("milestone"):
        # Closing ends every clock still live, whatever status its milestone names: a closed case keeps no
        # running or breached clock (the sweep and the to-do home's clock lines rely on it).
        if status != S.CLOSED and STATUS_RANK.get(clock_row.milestone.met_on, 99) > rank:
            continue
        late = clock_row.state == MilestoneState.BREACHED or now > clock_row.deadline
        state = MilestoneState.MET_LATE if late else MilestoneState.MET
        updated = CaseMilestone.objects.filter(pk=clock_row.pk, met_at__isnull=True).update(
            met_at=now,
            state=state,
            due_at=None,
            warn_at=None,
            next_escalation_at=None,
            remaining_seconds=None,
        )
        if updated:
            event_write(
                case,
                EventKind.MILESTONE_MET,
                actor=None,
                now=now,
                note=clock_row.milestone.name,
                data={"milestone": clock_row.milestone.code, "on_time": not late},
            )


def resident_notify(case: Case, title, body="", *, params: dict | None = None, now: dt.datetime) -> None:
    """Tell the resident (inbox + SMS for an account, SMS to the given phone otherwise): the inbox row and
    the SMS outbox row are written in the caller's transaction, so they exist exactly when the change does
    (a process killed after the commit loses none of them; the outbox job sends the SMS).

    ``title`` and ``body`` are lazy messages filled from ``params``, written in the resident's language
    (the deployment's for a phone with no account)."""
    reporter, phone = case.reporter, case.phone
    link = f"/cases/track/?number={case.number}"
    reference = f"case:{case.number}"
    if reporter is not None:
        notify_user(
            recipient=reporter,
            title=title,
            body=body,
            params=params,
            link=link,
            sms=bool(reporter.phone),
            reference=reference,
            now=now,
        )
    if phone and (reporter is None or not reporter.phone):
        language = reporter.language if reporter is not None else None
        text = sms_text(title, body, params=params, language=language)
        queue_sms(phone=phone, text=text, reference=reference, now=now)


def users_notify(
    users: Iterable, title, body, link: str, *, params: dict | None = None, now: dt.datetime, sms: bool = True
) -> None:
    """Inbox notices (and SMS outbox rows) in the caller's transaction, like ``resident_notify``, each in
    its recipient's language."""
    for user in users:
        notify_user(recipient=user, title=title, body=body, params=params, link=link, sms=sms, now=now)


def photos_attach(
    case: Case, event: CaseEvent | None, photos: Sequence[ValidatedImage], *, actor, now: dt.datetime
) -> None:
    for photo in photos:
        CasePhoto.objects.create(
            case=case,
            event=event,
            file=photo.as_file(),
            content_type=photo.content_type,
            size=photo.size,
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
            uploaded_at=now,
        )


def desk_require(actor, case: Case) -> None:
    if not permissions.can_view_case_as_staff(actor, case):
        raise Http404
    if not permissions.can_handle_case(actor, case):
        raise NotAllowed(_("Only the case desk (street, area or community staff) may do this"))


def contractor_require(actor, case: Case) -> None:
    """A contractor acting on a case not dispatched to them gets a 404: it is not theirs to know about."""
    if not permissions.is_contractor_for(actor, case):
        raise Http404


def desk_users(case: Case, roles: Sequence[str] = (Role.AREA_ADMIN, Role.COMMUNITY_SECRETARY)):
    from kangle.accounts.models import User

    return User.objects.filter(
        is_active=True,
        role_assignments__is_active=True,
        role_assignments__role__in=roles,
        role_assignments__org__code__in=case.org.ancestor_codes(),
    ).distinct()


def escalation_recipients(case: Case, role: str):
    from kangle.accounts.models import User

    user_ids = RoleAssignment.objects.filter(
        is_active=True, role=role, org__code__in=case.org.ancestor_codes()
    ).values("user_id")
    return User.objects.filter(pk__in=user_ids, is_active=True)
