"""Benefits and their time slots: what staff offer to members with enough points, and the earlier sign-up a
balance earns.

``signup_opens_at(*, member_or_household, base_opens_at, now=None, org=None) -> datetime`` (called by
activities): when this person may sign up for an activity whose sign-up opens for everyone at
``base_opens_at``: earlier by the largest ``early_hours`` of the open early-sign-up benefits at ``org`` or
above (default: the member's community) whose ``min_points`` the member's balance reaches. A HouseholdMember
uses the balance of the member they belong to (when the benefit allows households).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kangle.core import audit
from kangle.core.errors import NotAllowed, UserError
from kangle.core.timeutil import resolve_now
from kangle.members.models import HouseholdMember, Member
from kangle.orgs.models import OrgUnit, Venue
from kangle.orgs.scope import in_scope
from kangle.points import permissions
from kangle.points.models import (
    Benefit,
    BenefitKind,
    ResourceKind,
    Slot,
)
from kangle.points.selectors import balance_of, benefits_applying
from kangle.points.services.ledger import (
    require_aware,
)


def _holder(member_or_household) -> tuple[Member, HouseholdMember | None]:
    if isinstance(member_or_household, HouseholdMember):
        return member_or_household.member, member_or_household
    if isinstance(member_or_household, Member):
        return member_or_household, None
    raise TypeError("expected a Member or a HouseholdMember")


def signup_opens_at(
    *,
    member_or_household,
    base_opens_at: dt.datetime,
    now: dt.datetime | None = None,
    org: OrgUnit | None = None,
) -> dt.datetime:
    """See the module docstring. Pure read: the activities app calls it when someone signs up."""
    moment = resolve_now(now)
    member, household = _holder(member_or_household)
    balance = balance_of(member)
    best = 0
    for benefit in benefits_applying(org or member.community).filter(kind=BenefitKind.EARLY_SIGNUP):
        if not benefit.is_open(moment) or balance < benefit.min_points:
            continue
        if household is not None and not benefit.for_household:
            continue
        best = max(best, benefit.early_hours)
    return base_opens_at - dt.timedelta(hours=best)


def benefit_create(
    *,
    actor,
    org: OrgUnit,
    kind: str,
    name: str,
    description: str = "",
    min_points: int = 0,
    cost_points: int = 0,
    early_hours: int = 0,
    resource_kind: str = "",
    venue: Venue | None = None,
    pass_valid_days: int = 30,
    for_household: bool = True,
    active_from: dt.datetime | None = None,
    active_until: dt.datetime | None = None,
    is_active: bool = True,
    now: dt.datetime | None = None,
) -> Benefit:
    moment = resolve_now(now)
    if not in_scope(actor, org.path):
        raise Http404
    if not permissions.can_manage_benefits(actor, org):
        raise NotAllowed()
    if kind not in BenefitKind.values:
        raise UserError("invalid_kind", _("Unknown benefit kind"), field="kind")
    name = (name or "").strip()
    if not name:
        raise UserError("name_required", _("A name is required"), field="name")
    fields = {
        "description": description,
        "min_points": min_points,
        "cost_points": cost_points,
        "early_hours": early_hours,
        "resource_kind": resource_kind,
        "venue": venue,
        "pass_valid_days": pass_valid_days,
        "for_household": for_household,
        "active_from": active_from,
        "active_until": active_until,
        "is_active": is_active,
    }
    if kind == BenefitKind.EARLY_SIGNUP and not fields.get("early_hours"):
        raise UserError("early_hours_required", _("early_hours is required"), field="early_hours")
    if kind == BenefitKind.RESOURCE and fields.get("resource_kind") not in ResourceKind.values:
        raise UserError(
            "resource_kind_required",
            _("resource_kind must be room, equipment or service"),
            field="resource_kind",
        )
    if kind == BenefitKind.EARLY_SIGNUP and fields.get("cost_points"):
        raise UserError("invalid_cost", _("An early sign-up benefit cannot cost points"), field="cost_points")
    if (
        venue is not None
        and not venue.org.path.startswith(org.path)
        and not org.path.startswith(venue.org.path)
    ):
        raise UserError("invalid_venue", _("The venue is outside this benefit's unit"), field="venue")
    with transaction.atomic():
        benefit = Benefit.objects.create(org=org, kind=kind, name=name[:100], created_at=moment, **fields)
        audit.record(actor=actor, verb="benefit.create", obj=benefit, now=moment, details={"kind": kind})
    return benefit


def slot_create(
    *,
    actor,
    benefit: Benefit,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    priority_min_points: int = 0,
    release_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Slot:
    moment = resolve_now(now)
    if not in_scope(actor, benefit.org.path):
        raise Http404
    if not permissions.can_manage_benefits(actor, benefit.org):
        raise NotAllowed()
    if benefit.kind != BenefitKind.RESOURCE:
        raise UserError("not_bookable", _("Only a shared resource has time slots"), field="benefit")
    require_aware(starts_at, "starts_at")
    require_aware(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise UserError("invalid_slot", _("ends_at must be after starts_at"), field="ends_at")
    if starts_at < moment:
        raise UserError("slot_in_past", _("The slot would start in the past"), field="starts_at")
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 1 <= capacity <= 1000:
        raise UserError("invalid_capacity", _("capacity must be from 1 to 1000"), field="capacity")
    if priority_min_points < 0:
        raise UserError(
            "invalid_priority", _("priority_min_points cannot be negative"), field="priority_min_points"
        )
    if release_at is not None:
        require_aware(release_at, "release_at")
        if release_at > starts_at:
            raise UserError("invalid_release", _("release_at cannot be after starts_at"), field="release_at")
    with transaction.atomic():
        # Lock the benefit so two staff adding slots at once cannot both miss the other's overlap.
        Benefit.objects.select_for_update().filter(pk=benefit.pk).first()
        clash = Slot.objects.filter(benefit=benefit, starts_at__lt=ends_at, ends_at__gt=starts_at).first()
        if clash is not None:
            raise UserError(
                "slot_overlap",
                _("The slot overlaps an existing one (%(start)s–%(end)s)"),
                field="starts_at",
                start=f"{timezone.localtime(clash.starts_at):%m-%d %H:%M}",
                end=f"{timezone.localtime(clash.ends_at):%H:%M}",
            )
        slot = Slot.objects.create(
            benefit=benefit,
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=capacity,
            priority_min_points=priority_min_points,
            release_at=release_at,
        )
        audit.record(actor=actor, verb="slot.create", obj=benefit, now=moment, details={"slot": slot.pk})
    return slot
