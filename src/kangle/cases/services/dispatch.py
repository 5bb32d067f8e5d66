"""From report to contractor: the desk accepts and dispatches, the contractor accepts or returns."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kangle.cases.models import (
    Case,
    Contractor,
    EventKind,
)
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
from kangle.core.errors import UserError
from kangle.core.timeutil import resolve_now


@transaction.atomic
def case_accept(*, actor, case: Case, now: dt.datetime | None = None) -> Case:
    moment = resolve_now(now)
    case = case_lock(case)
    desk_require(actor, case)
    target = transition_check(case, "accept")
    before = case.status
    case_move(case, target, now=moment)
    event_write(case, EventKind.ACCEPTED, actor=actor, now=moment, from_status=before, to_status=target)
    audit.record(actor=actor, verb="case.accept", obj=case, now=moment)
    resident_notify(
        case,
        _("Case %(number)s has been accepted"),
        _("The station is contacting a professional."),
        params={"number": case.number},
        now=moment,
    )
    return case


def default_contractor(case: Case) -> Contractor | None:
    """The contractor for this category (or its parent) covering the case's place, highest priority first."""
    codes = case.org.ancestor_codes()
    categories = [case.category_id] + ([case.category.parent_id] if case.category.parent_id else [])
    return (
        Contractor.objects.filter(is_active=True, org__code__in=codes, categories__in=categories)
        .order_by("-priority", "-org__depth", "name")
        .distinct()
        .first()
    )


@transaction.atomic
def case_dispatch(
    *, actor, case: Case, contractor: Contractor | None = None, now: dt.datetime | None = None
) -> Case:
    moment = resolve_now(now)
    case = case_lock(case)
    desk_require(actor, case)
    target = transition_check(case, "dispatch")
    if contractor is None:
        contractor = default_contractor(case)
        if contractor is None:
            raise UserError(
                "no_contractor",
                _("No contractor covers this place and category; choose one"),
                field="contractor",
            )
    elif not contractor.is_active or not case.org.path.startswith(contractor.org.path):
        raise UserError(
            "contractor_not_covering",
            _("The chosen contractor does not cover this place"),
            field="contractor",
        )
    before = case.status
    case_move(case, target, now=moment, extra={"contractor": contractor})
    event_write(
        case,
        EventKind.DISPATCHED,
        actor=actor,
        now=moment,
        from_status=before,
        to_status=target,
        note=contractor.name,
        data={"contractor": contractor.pk},
    )
    audit.record(
        actor=actor, verb="case.dispatch", obj=case, details={"contractor": contractor.pk}, now=moment
    )
    users_notify(
        contractor.users.filter(is_active=True),
        _("New job %(number)s: %(category)s"),
        "%(title)s",
        f"/cases/c/{case.number}/",
        params={"number": case.number, "category": case.category.name, "title": case.title},
        now=moment,
    )
    return case


@transaction.atomic
def case_contractor_accept(*, actor, case: Case, now: dt.datetime | None = None) -> Case:
    moment = resolve_now(now)
    case = case_lock(case)
    contractor_require(actor, case)
    target = transition_check(case, "contractor_accept")
    before = case.status
    case_move(case, target, now=moment)
    event_write(
        case,
        EventKind.CONTRACTOR_ACCEPTED,
        actor=actor,
        now=moment,
        from_status=before,
        to_status=target,
        note=case.contractor.name,
    )
    audit.record(actor=actor, verb="case.contractor_accept", obj=case, now=moment)
    return case


@transaction.atomic
def case_return(*, actor, case: Case, reason: str, now: dt.datetime | None = None) -> Case:
    """退单: the contractor hands the case back to the desk with a reason."""
    moment = resolve_now(now)
    case = case_lock(case)
    contractor_require(actor, case)
    target = transition_check(case, "return")
    reason = cleaners.text(reason, field="reason", label=_("Reason for returning"), max_length=300)
    before, contractor = case.status, case.contractor
    case_move(case, target, now=moment, extra={"contractor": None})
    event_write(
        case,
        EventKind.RETURNED,
        actor=actor,
        now=moment,
        from_status=before,
        to_status=target,
        note=reason,
        data={"contractor": contractor.pk},
    )
    audit.record(
        actor=actor,
        verb="case.return",
        obj=case,
        details={"reason": reason, "contractor": contractor.pk},
        now=moment,
    )
    users_notify(
        desk_users(case),
        _("Case %(number)s was handed back"),
        _("%(contractor)s: %(reason)s"),
        f"/cases/desk/{case.number}/",
        params={"number": case.number, "contractor": contractor.name, "reason": reason},
        now=moment,
        sms=False,
    )
    return case
