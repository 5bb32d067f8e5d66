"""The end of the work: finishing, the resident's feedback, rework and closing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from kangle.cases import permissions
from kangle.cases.models import (
    Case,
    CaseEvent,
    EventKind,
    Feedback,
)
from kangle.cases.services.clocks import clocks_start_rework
from kangle.cases.services.common import (
    S,
    case_lock,
    case_move,
    contractor_require,
    desk_require,
    event_write,
    photos_attach,
    resident_notify,
    transition_check,
    users_notify,
)
from kangle.core import audit, cleaners
from kangle.core.errors import NotAllowed, UserError
from kangle.core.timeutil import resolve_now
from kangle.core.uploads import ValidatedImage

RATE = _("Rate it online with the case number and the last 4 digits of your phone.")
RATE_WITH_TIP = _(
    "Prevention tip: %(tips)s. Rate it online with the case number and the last 4 digits of your phone."
)


@transaction.atomic
def case_finish(
    *,
    actor,
    case: Case,
    note: str = "",
    photos: Sequence[ValidatedImage] = (),
    now: dt.datetime | None = None,
) -> Case:
    moment = resolve_now(now)
    case = case_lock(case)
    contractor_require(actor, case)
    target = transition_check(case, "finish")
    note = cleaners.text(
        note, field="note", label=_("Note on the work done"), required=False, max_length=1000
    )
    before = case.status
    case_move(case, target, now=moment)
    event = event_write(
        case, EventKind.WORK_DONE, actor=actor, now=moment, from_status=before, to_status=target, note=note
    )
    photos_attach(case, event, photos, actor=actor, now=moment)
    audit.record(actor=actor, verb="case.finish", obj=case, now=moment)
    tips = case.category.prevention_tips
    resident_notify(
        case,
        _("Case %(number)s is done, please rate it"),
        RATE_WITH_TIP if tips else RATE,
        params={"number": case.number, "tips": tips[:80]},
        now=moment,
    )
    return case


@transaction.atomic
def case_feedback(
    *,
    actor,
    case: Case,
    satisfied: bool,
    rating: int,
    comment: str = "",
    verified_by_phone: bool = False,
    now: dt.datetime | None = None,
) -> Feedback:
    """The reporter rates the result: satisfied closes the case; not satisfied reopens it for rework.

    ``verified_by_phone`` is set by the tracking page after the case number and phone suffix matched (a
    walk-in resident without an account).
    """
    moment = resolve_now(now)
    case = case_lock(case)
    # Proof by phone suffix stands in for an account only when the case has no reporter account.
    by_phone = verified_by_phone and case.reporter_id is None
    if not by_phone and not permissions.is_reporter(actor, case):
        raise NotAllowed(_("Only the resident who reported the case may rate it"))
    transition_check(case, "feedback")
    if not 1 <= rating <= 5:
        raise UserError("invalid_rating", _("The rating must be 1 to 5 stars"), field="rating")
    comment = cleaners.text(
        comment, field="comment", label=_("Feedback comment"), required=not satisfied, max_length=500
    )
    feedback = Feedback.objects.create(
        case=case,
        satisfied=bool(satisfied),
        rating=rating,
        comment=comment,
        given_by=actor if getattr(actor, "is_authenticated", False) else None,
        given_at=moment,
    )
    before = case.status
    event_write(
        case,
        EventKind.FEEDBACK,
        actor=actor,
        now=moment,
        note=comment,
        data={"satisfied": bool(satisfied), "rating": rating},
    )
    if satisfied:
        case_move(case, S.CLOSED, now=moment, extra={"closed_at": moment})
        event_write(case, EventKind.CLOSED, actor=actor, now=moment, from_status=before, to_status=S.CLOSED)
    else:
        _reopen(case, actor=actor, reason=comment, now=moment)
    audit.record(
        actor=actor,
        verb="case.feedback",
        obj=case,
        details={"satisfied": bool(satisfied), "rating": rating},
        now=moment,
    )
    return feedback


def _reopen(case: Case, *, actor, reason: str, now: dt.datetime) -> None:
    """Back to rework: the count goes up and the policy's rework clocks start for this round."""
    before = case.status
    case_move(case, S.REWORK, now=now, extra={"rework_count": F("rework_count") + 1, "closed_at": None})
    case.refresh_from_db(fields=["rework_count"])
    clocks = clocks_start_rework(case, round_=case.rework_count, now=now)
    event_write(
        case,
        EventKind.REOPENED,
        actor=actor,
        now=now,
        from_status=before,
        to_status=S.REWORK,
        note=reason,
        data={"round": case.rework_count, "deadlines": [row.deadline.isoformat() for row in clocks]},
    )
    if case.contractor_id:
        users_notify(
            case.contractor.users.filter(is_active=True),
            _("Case %(number)s: the resident is not satisfied, rework needed"),
            "%(reason)s",
            f"/cases/c/{case.number}/",
            params={"number": case.number, "reason": reason},
            now=now,
        )


@transaction.atomic
def case_rework(*, actor, case: Case, reason: str, now: dt.datetime | None = None) -> Case:
    """The desk reopens a finished case for rework (e.g. the resident complained by phone after closing).

    Only work that was done can be redone: a case that never reached "work done" is refused."""
    moment = resolve_now(now)
    case = case_lock(case)
    desk_require(actor, case)
    completed = CaseEvent.objects.filter(case=case, kind=EventKind.WORK_DONE).exists()
    if case.status not in (S.WORK_DONE, S.CLOSED) or not completed:
        raise UserError(
            "never_completed",
            _("The case is '%(state)s' and was never completed; it cannot be reworked"),
            field="status",
            status=409,
            state=S(case.status).label,
        )
    reason = cleaners.text(reason, field="reason", label=_("Reason for rework"), max_length=500)
    _reopen(case, actor=actor, reason=reason, now=moment)
    audit.record(
        actor=actor,
        verb="case.rework",
        obj=case,
        details={"reason": reason, "round": case.rework_count},
        now=moment,
    )
    return case


@transaction.atomic
def case_close(*, actor, case: Case, note: str = "", now: dt.datetime | None = None) -> Case:
    """The desk closes a finished case (e.g. the resident gave no feedback)."""
    moment = resolve_now(now)
    case = case_lock(case)
    desk_require(actor, case)
    target = transition_check(case, "close")
    note = cleaners.text(note, field="note", label=_("Closing note"), required=False, max_length=500)
    before = case.status
    case_move(case, target, now=moment, extra={"closed_at": moment})
    event_write(
        case, EventKind.CLOSED, actor=actor, now=moment, from_status=before, to_status=target, note=note
    )
    audit.record(actor=actor, verb="case.close", obj=case, now=moment)
    return case
