"""Using a balance: booking a slot of a shared resource (cancelling refunds what it cost) and priority passes
(issued, then accepted once at a service counter). Every spend is a ledger entry written under the member's
locked balance row, so a balance never goes below zero."""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kangle.core import audit
from kangle.core.errors import NotAllowed, UserError
from kangle.core.timeutil import resolve_now
from kangle.members.models import HouseholdMember, Member
from kangle.orgs.scope import in_scope
from kangle.points import permissions
from kangle.points.models import (
    Benefit,
    BenefitKind,
    Booking,
    BookingStatus,
    EntryKind,
    PriorityPass,
    Slot,
)
from kangle.points.services.ledger import (
    actor_user,
    balance_lock,
    entry_append,
    entry_spend,
    local_day,
)


def _may_act_for(actor, member: Member) -> None:
    """The member themself, or staff managing benefits over the member's community (desk bookings)."""
    if permissions.owns(actor, member):
        return
    if not in_scope(actor, member.community.path):
        raise Http404
    if not permissions.can_manage_benefits(actor, member.community):
        raise NotAllowed()


def _check_household(member: Member, household: HouseholdMember | None, benefit: Benefit) -> None:
    if household is None:
        return
    if household.member_id != member.pk:
        raise UserError(
            "not_household",
            _("This person is not a household member of the member"),
            field="household_member",
        )
    if not benefit.for_household:
        raise UserError(
            "not_for_household", _("This benefit is for the member only"), field="household_member"
        )


def _check_reaches(benefit: Benefit, member: Member, balance: int, moment) -> None:
    if not benefit.is_open(moment):
        raise UserError("benefit_closed", _("This benefit is not open now"), field="benefit")
    if not member.community.path.startswith(benefit.org.path):
        raise UserError(
            "benefit_elsewhere", _("This benefit does not apply to your community"), field="benefit"
        )
    if balance < benefit.min_points:
        raise UserError(
            "below_minimum",
            _("At least %(min_points)s points are needed; the balance is %(balance)s"),
            field="benefit",
            min_points=benefit.min_points,
            balance=balance,
        )


def booking_create(
    *,
    actor,
    slot: Slot,
    member: Member,
    household_member: HouseholdMember | None = None,
    now: dt.datetime | None = None,
) -> Booking:
    """Book one place in ``slot`` for the member or one of their household members.

    Exact under concurrency: the slot row is locked, the place counted, then the booking written; one active
    booking per person per slot (a unique constraint backs the check)."""
    moment = resolve_now(now)
    _may_act_for(actor, member)
    benefit = slot.benefit
    _check_household(member, household_member, benefit)
    key = f"h{household_member.pk}" if household_member else "self"
    with transaction.atomic():
        balance = balance_lock(member)
        slot = Slot.objects.select_for_update(of=("self",)).select_related("benefit").get(pk=slot.pk)
        _check_reaches(benefit, member, balance.total, moment)
        if slot.starts_at <= moment:
            raise UserError("slot_past", _("This slot has already started"), field="slot")
        if slot.is_held(moment) and balance.total < slot.priority_min_points:
            release = (
                timezone.localtime(slot.release_at).strftime("%Y-%m-%d %H:%M") if slot.release_at else "—"
            )
            raise UserError(
                "slot_held",
                _("This slot is held for balances of at least %(priority_min_points)s until %(release)s"),
                field="slot",
                priority_min_points=slot.priority_min_points,
                release=release,
            )
        if Booking.objects.filter(
            slot=slot, member=member, beneficiary_key=key, status=BookingStatus.BOOKED
        ).exists():
            raise UserError("already_booked", _("Already booked for this slot"), field="slot")
        if slot.booked >= slot.capacity:
            raise UserError("slot_full", _("This slot is fully booked"), field="slot")
        booking = Booking.objects.create(
            slot=slot,
            member=member,
            household_member=household_member,
            beneficiary_key=key,
            created_at=moment,
        )
        if benefit.cost_points:
            booking.spend = entry_spend(
                balance=balance,
                member=member,
                cost=benefit.cost_points,
                key=f"spend:booking-{booking.pk}",
                reason=str(slot),
                actor=actor,
                moment=moment,
            )
            booking.save(update_fields=["spend"])
        Slot.objects.filter(pk=slot.pk).update(booked=F("booked") + 1)
        audit.record(
            actor=actor,
            verb="booking.create",
            obj=benefit,
            now=moment,
            details={"slot": slot.pk, "booking": booking.pk, "member": member.pk, "for": key},
        )
    return booking


def booking_cancel(*, actor, booking: Booking, now: dt.datetime | None = None) -> Booking:
    """Cancel before the slot starts; points spent come back as a refund entry."""
    moment = resolve_now(now)
    _may_act_for(actor, booking.member)
    with transaction.atomic():
        balance = balance_lock(booking.member)
        booking = (
            Booking.objects.select_for_update(of=("self",)).select_related("slot", "spend").get(pk=booking.pk)
        )
        if booking.status != BookingStatus.BOOKED:
            raise UserError("not_booked", _("The booking is already cancelled"), field="booking")
        if booking.slot.starts_at <= moment:
            raise UserError("slot_past", _("The slot has started; it cannot be cancelled"), field="booking")
        Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED, cancelled_at=moment)
        booking.status, booking.cancelled_at = BookingStatus.CANCELLED, moment
        Slot.objects.filter(pk=booking.slot_id).update(booked=F("booked") - 1)
        if booking.spend is not None:
            entry_append(
                balance,
                member=booking.member,
                kind=EntryKind.REFUND,
                points=-booking.spend.points,
                idempotency_key=f"refund:booking-{booking.pk}",
                source_type="benefit",
                source_id=f"booking-{booking.pk}",
                reverses=booking.spend,
                occurred_at=moment,
                occurred_on=local_day(moment),
                recorded_at=moment,
                actor=actor_user(actor),
                reason="cancelled",
                org_path=booking.member.org.path,
            )
        audit.record(
            actor=actor,
            verb="booking.cancel",
            obj=booking.slot.benefit,
            now=moment,
            details={"booking": booking.pk},
        )
    return booking


def pass_issue(
    *,
    actor,
    benefit: Benefit,
    member: Member,
    household_member: HouseholdMember | None = None,
    now: dt.datetime | None = None,
) -> PriorityPass:
    moment = resolve_now(now)
    _may_act_for(actor, member)
    if benefit.kind != BenefitKind.PRIORITY_PASS:
        raise UserError("not_a_pass", _("This benefit is not a priority pass"), field="benefit")
    _check_household(member, household_member, benefit)
    with transaction.atomic():
        balance = balance_lock(member)
        _check_reaches(benefit, member, balance.total, moment)
        open_pass = PriorityPass.objects.filter(
            benefit=benefit,
            member=member,
            household_member=household_member,
            used_at__isnull=True,
            valid_until__gt=moment,
        )
        if open_pass.exists():
            raise UserError("pass_exists", _("An unused pass already exists"), field="benefit")
        issued = PriorityPass.objects.create(
            benefit=benefit,
            member=member,
            household_member=household_member,
            code=secrets.token_hex(4).upper(),
            issued_at=moment,
            valid_until=moment + dt.timedelta(days=benefit.pass_valid_days),
        )
        if benefit.cost_points:
            issued.spend = entry_spend(
                balance=balance,
                member=member,
                cost=benefit.cost_points,
                key=f"spend:pass-{issued.pk}",
                reason=benefit.name,
                actor=actor,
                moment=moment,
            )
            issued.save(update_fields=["spend"])
        audit.record(
            actor=actor,
            verb="priority_pass.issue",
            obj=benefit,
            now=moment,
            details={"pass": issued.pk, "member": member.pk},
        )
    return issued


def pass_use(*, actor, code: str, now: dt.datetime | None = None) -> PriorityPass:
    """Staff at the service counter accept a pass (once)."""
    moment = resolve_now(now)
    code = (code or "").strip().upper()
    with transaction.atomic():
        issued = (
            PriorityPass.objects.select_for_update(of=("self",))
            .select_related("benefit__org", "member__community")
            .filter(code=code)
            .first()
        )
        # Counter staff over the benefit's unit or over the holder's community accept it.
        units = [issued.benefit.org, issued.member.community] if issued is not None else []
        if not any(in_scope(actor, unit.path) for unit in units):
            raise Http404
        if not any(permissions.can_manage_benefits(actor, unit) for unit in units):
            raise NotAllowed()
        if issued.used_at is not None:
            raise UserError("pass_used", _("The pass has already been used"), field="code")
        if issued.valid_until <= moment:
            raise UserError("pass_expired", _("The pass has expired"), field="code")
        PriorityPass.objects.filter(pk=issued.pk).update(used_at=moment, used_by=actor_user(actor))
        issued.used_at, issued.used_by = moment, actor_user(actor)
        audit.record(
            actor=actor, verb="priority_pass.use", obj=issued.benefit, now=moment, details={"pass": issued.pk}
        )
    return issued
