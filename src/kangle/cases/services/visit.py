"""The visit: booking the slot, contacting the resident, checking in on site, work steps, the contact reveal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from kangle.cases import permissions
from kangle.cases.models import (
    Appointment,
    AppointmentStatus,
    Case,
    CaseEvent,
    EventKind,
    WorkStep,
)
from kangle.cases.services.common import (
    case_lock,
    case_move,
    contractor_require,
    desk_require,
    event_write,
    photos_attach,
    resident_notify,
    transition_check,
)
from kangle.core import audit, cleaners
from kangle.core.errors import UserError
from kangle.core.timeutil import local, resolve_now
from kangle.core.uploads import ValidatedImage
from kangle.notify.services import day_time

MAX_SLOT_HOURS = 12


def case_reveal_contact(*, actor, case: Case, now: dt.datetime | None = None) -> dict:
    """The contractor on the job sees the resident's full phone and address only by asking; each reveal is
    an audit event (personal data is masked on screen otherwise)."""
    moment = resolve_now(now)
    contractor_require(actor, case)
    with transaction.atomic():
        audit.record(
            actor=actor,
            verb="case.contact_reveal",
            obj=case,
            now=moment,
            details={"fields": ["phone", "address"]},
        )
    return {"phone": case.phone, "address": case.address}


@transaction.atomic
def case_book(
    *,
    actor,
    case: Case,
    slot_start: dt.datetime,
    slot_end: dt.datetime,
    note: str = "",
    now: dt.datetime | None = None,
) -> Appointment:
    """Book (or rebook) the visit slot agreed with the resident, who gets the slot and precautions."""
    moment = resolve_now(now)
    case = case_lock(case)
    if not permissions.is_contractor_for(actor, case):
        desk_require(actor, case)
    target = transition_check(case, "book")
    if slot_start is None or slot_end is None:
        raise UserError("blank_slot", _("The visit slot is required"), field="slot_start")
    if slot_start <= moment:
        raise UserError("slot_in_past", _("The visit slot cannot be in the past"), field="slot_start")
    if slot_end <= slot_start:
        raise UserError("slot_order", _("The slot must end after it starts"), field="slot_end")
    if slot_end - slot_start > dt.timedelta(hours=MAX_SLOT_HOURS):
        raise UserError(
            "slot_too_long",
            _("A visit slot cannot be longer than %(max_slot_hours)s hours"),
            field="slot_end",
            max_slot_hours=MAX_SLOT_HOURS,
        )
    note = cleaners.text(note, field="note", label=_("Note"), required=False, max_length=200)
    Appointment.objects.filter(case=case, status=AppointmentStatus.BOOKED).update(
        status=AppointmentStatus.REPLACED
    )
    appointment = Appointment.objects.create(
        case=case, slot_start=slot_start, slot_end=slot_end, note=note, booked_by=actor, booked_at=moment
    )
    before = case.status
    case_move(case, target, now=moment)
    slot_text = f"{local(slot_start):%m月%d日 %H:%M}–{local(slot_end):%H:%M}"
    event_write(
        case,
        EventKind.BOOKED,
        actor=actor,
        now=moment,
        from_status=before,
        to_status=target,
        note=slot_text,
        data={"appointment": appointment.pk},
    )
    audit.record(actor=actor, verb="case.book", obj=case, details={"slot": slot_text}, now=moment)
    resident_notify(
        case,
        _("Case %(number)s: a visit is booked for %(start)s–%(end)s"),
        _("Precautions: %(precautions)s") if case.category.precautions else "",
        params={
            "number": case.number,
            "start": day_time(slot_start),
            "end": f"{local(slot_end):%H:%M}",
            "precautions": case.category.precautions,
        },
        now=moment,
    )
    return appointment


@transaction.atomic
def case_contact(*, actor, case: Case, note: str = "", now: dt.datetime | None = None) -> Case:
    moment = resolve_now(now)
    case = case_lock(case)
    contractor_require(actor, case)
    target = transition_check(case, "contact")
    note = cleaners.text(note, field="note", label=_("How the contact went"), required=False, max_length=500)
    before = case.status
    case_move(case, target, now=moment)
    event_write(
        case, EventKind.CONTACTED, actor=actor, now=moment, from_status=before, to_status=target, note=note
    )
    audit.record(actor=actor, verb="case.contact", obj=case, now=moment)
    return case


@transaction.atomic
def case_check_in(
    *,
    actor,
    case: Case,
    photos: Sequence[ValidatedImage],
    note: str = "",
    early_reason: str = "",
    now: dt.datetime | None = None,
) -> Case:
    """到场签到: time and a photo; only against a booked visit. Arriving before the booked slot needs a
    reason (the resident agreed to an earlier visit, …): the slot is what the resident was promised."""
    moment = resolve_now(now)
    case = case_lock(case)
    contractor_require(actor, case)
    appointment = Appointment.objects.filter(case=case, status=AppointmentStatus.BOOKED).first()
    if appointment is None:
        raise UserError(
            "no_booking",
            _("Book a visit slot with the resident before checking in on site"),
            field="status",
            status=409,
        )
    target = transition_check(case, "check_in")
    if not photos:
        raise UserError("photo_required", _("Checking in needs a photo taken on site"), field="photo")
    note = cleaners.text(note, field="note", label=_("Note"), required=False, max_length=500)
    early = moment < appointment.slot_start
    early_reason = cleaners.text(
        early_reason if early else "",
        field="early_reason",
        label=_("Reason for arriving before the booked slot"),
        required=early,
        max_length=300,
    )
    Appointment.objects.filter(pk=appointment.pk).update(status=AppointmentStatus.ATTENDED)
    before = case.status
    case_move(case, target, now=moment)
    event = event_write(
        case,
        EventKind.CHECKED_IN,
        actor=actor,
        now=moment,
        from_status=before,
        to_status=target,
        note=note,
        data={"early_reason": early_reason} if early else None,
    )
    photos_attach(case, event, photos, actor=actor, now=moment)
    audit.record(actor=actor, verb="case.check_in", obj=case, now=moment)
    resident_notify(
        case, _("Case %(number)s: the professional has arrived"), params={"number": case.number}, now=moment
    )
    return case


@transaction.atomic
def case_record_step(
    *,
    actor,
    case: Case,
    step: str,
    note: str = "",
    photos: Sequence[ValidatedImage] = (),
    now: dt.datetime | None = None,
) -> CaseEvent:
    """A work step on site (survey, nest located, treated, cleaned up, …) with photos."""
    moment = resolve_now(now)
    case = case_lock(case)
    contractor_require(actor, case)
    transition_check(case, "step")
    if step not in WorkStep.values:
        raise UserError("invalid_step", _("Unknown work step"), field="step")
    note = cleaners.text(note, field="note", label=_("Note on the step"), required=False, max_length=1000)
    event = event_write(
        case,
        EventKind.STEP,
        actor=actor,
        now=moment,
        step=step,
        note=note,
        from_status=case.status,
        to_status=case.status,
    )
    photos_attach(case, event, photos, actor=actor, now=moment)
    Case.objects.filter(pk=case.pk).update(version=F("version") + 1)
    audit.record(actor=actor, verb="case.step", obj=case, details={"step": step}, now=moment)
    return event
