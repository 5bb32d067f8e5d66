"""/api/v1/points: rules, the ledger, adjustments, benefits, slots, bookings, passes and rankings.

Outside the caller's subtree is a 404; a wrong role inside it is a 403. Members act on their own file.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from ninja.pagination import paginate

from kangle.core.errors import UserError
from kangle.core.pagination import Listing, Pagination, capped_count
from kangle.core.timeutil import now as current_time
from kangle.members.models import EmployerPartyOrg, HouseholdMember, Member
from kangle.members.selectors import own_file
from kangle.orgs.models import OrgKind, OrgUnit, Venue
from kangle.orgs.scope import get_in_scope_or_404, in_scope, scope_queryset
from kangle.points import permissions, selectors, services
from kangle.points.models import Benefit, Booking, LedgerEntry, PointsRule, PriorityPass, Slot

router = Router(tags=["points"])


# ------------------------------------------------------------------------------------------- schemas
class RuleOut(Schema):
    id: int
    street: str
    version: int
    effective_from: dt.datetime
    band_limits: list[int]
    table: list[list[int]]
    daily_cap: int
    monthly_cap: int
    note: str
    used: bool

    @staticmethod
    def of(rule: PointsRule, used: bool) -> dict:
        return {
            "id": rule.pk,
            "street": rule.org.code,
            "version": rule.version,
            "effective_from": rule.effective_from,
            "band_limits": rule.band_limits,
            "table": rule.table,
            "daily_cap": rule.daily_cap,
            "monthly_cap": rule.monthly_cap,
            "note": rule.note,
            "used": used,
        }


class RuleIn(Schema):
    street: str
    effective_from: dt.datetime
    band_limits: list[int] | None = None
    table: list[list[int]] | None = None
    daily_cap: int = 10
    monthly_cap: int = 60
    note: str = ""


class RulePatch(Schema):
    effective_from: dt.datetime | None = None
    band_limits: list[int] | None = None
    table: list[list[int]] | None = None
    daily_cap: int | None = None
    monthly_cap: int | None = None
    note: str | None = None


class EntryOut(Schema):
    id: int
    kind: str
    points: int
    source_type: str
    source_id: str
    rule_version: int | None
    difficulty: int | None
    duration_minutes: int | None
    base_points: int | None
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    reason: str
    evidence: dict
    reverses: int | None

    @staticmethod
    def of(e: LedgerEntry) -> dict:
        return {
            "id": e.pk,
            "kind": e.kind,
            "points": e.points,
            "source_type": e.source_type,
            "source_id": e.source_id,
            "rule_version": e.rule_version,
            "difficulty": e.difficulty,
            "duration_minutes": e.duration_minutes,
            "base_points": e.base_points,
            "occurred_at": e.occurred_at,
            "recorded_at": e.recorded_at,
            "reason": e.reason,
            "evidence": e.evidence,
            "reverses": e.reverses_id,
        }


class LedgerOut(Schema):
    member: int
    balance: int
    hide_from_rankings: bool
    entries: list[EntryOut]
    # The newest LEDGER_PAGE entries; the count (capped, see core.pagination) says how many there are.
    entries_count: int
    entries_count_capped: bool
    entries_more: bool


class AdjustIn(Schema):
    points: int
    reason: str


class VisibilityIn(Schema):
    hidden: bool


class BenefitOut(Schema):
    id: int
    org: str
    kind: str
    name: str
    description: str
    min_points: int
    cost_points: int
    early_hours: int
    resource_kind: str
    venue: str | None
    for_household: bool
    is_active: bool

    @staticmethod
    def of(b: Benefit) -> dict:
        return {
            "id": b.pk,
            "org": b.org.code,
            "kind": b.kind,
            "name": b.name,
            "description": b.description,
            "min_points": b.min_points,
            "cost_points": b.cost_points,
            "early_hours": b.early_hours,
            "resource_kind": b.resource_kind,
            "venue": b.venue.name if b.venue_id else None,
            "for_household": b.for_household,
            "is_active": b.is_active,
        }


class BenefitIn(Schema):
    org: str
    kind: str
    name: str
    description: str = ""
    min_points: int = 0
    cost_points: int = 0
    early_hours: int = 0
    resource_kind: str = ""
    venue: int | None = None
    pass_valid_days: int = 30
    for_household: bool = True


class SlotOut(Schema):
    id: int
    benefit: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    booked: int
    priority_min_points: int
    release_at: dt.datetime | None

    @staticmethod
    def of(s: Slot) -> dict:
        return {
            "id": s.pk,
            "benefit": s.benefit_id,
            "starts_at": s.starts_at,
            "ends_at": s.ends_at,
            "capacity": s.capacity,
            "booked": s.booked,
            "priority_min_points": s.priority_min_points,
            "release_at": s.release_at,
        }


class SlotIn(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    priority_min_points: int = 0
    release_at: dt.datetime | None = None


class BookingIn(Schema):
    slot: int
    member: int | None = None  # staff booking at a desk; a member books for their own file
    household_member: int | None = None


class BookingOut(Schema):
    id: int
    slot: int
    benefit: str
    starts_at: dt.datetime
    member: int
    for_name: str
    status: str
    points_spent: int

    @staticmethod
    def of(b: Booking) -> dict:
        return {
            "id": b.pk,
            "slot": b.slot_id,
            "benefit": b.slot.benefit.name,
            "starts_at": b.slot.starts_at,
            "member": b.member_id,
            "for_name": b.beneficiary_name,
            "status": b.status,
            "points_spent": -b.spend.points if b.spend_id else 0,
        }


class PassIn(Schema):
    benefit: int
    member: int | None = None
    household_member: int | None = None


class PassOut(Schema):
    id: int
    code: str
    benefit: str
    for_name: str
    valid_until: dt.datetime
    used_at: dt.datetime | None

    @staticmethod
    def of(p: PriorityPass) -> dict:
        return {
            "id": p.pk,
            "code": p.code,
            "benefit": p.benefit.name,
            "for_name": p.beneficiary_name,
            "valid_until": p.valid_until,
            "used_at": p.used_at,
        }


class PassUseIn(Schema):
    code: str


class RankRow(Schema):
    rank: int
    member_id: int
    name: str
    points: int


# ------------------------------------------------------------------------------------------- helpers
def _unit(code: str, field: str = "org") -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise UserError(
            "unknown_unit", _("No organisation unit %(code_value)s"), field=field, code_value=code
        )
    return unit


def _my_file(request) -> Member:
    member = own_file(request.user)
    if member is None:
        raise Http404
    return member


def _member_for(request, member_id: int | None) -> Member:
    """The caller's own file, or (staff) a file in their scope."""
    if member_id is None:
        return _my_file(request)
    member = Member.objects.select_related("community", "org").filter(pk=member_id).first()
    if member is None:
        raise Http404
    if permissions.owns(request.user, member):
        return member
    if not in_scope(request.user, member.org.path) and not in_scope(request.user, member.community.path):
        raise Http404
    return member


def _household(member: Member, household_id: int | None) -> HouseholdMember | None:
    if household_id is None:
        return None
    household = HouseholdMember.objects.filter(pk=household_id).first()
    if household is None or household.member_id != member.pk:
        raise UserError(
            "not_household",
            _("This person is not a household member of the member"),
            field="household_member",
        )
    return household


LEDGER_PAGE = 200


def _ledger(member: Member) -> dict:
    balance = selectors.cached_balance(member)
    hidden = bool(getattr(getattr(member, "points_balance", None), "hide_from_rankings", False))
    history = selectors.history(member)
    entries = [EntryOut.of(e) for e in history[: LEDGER_PAGE + 1]]
    count, capped = capped_count(history)
    return {
        "member": member.pk,
        "balance": balance,
        "hide_from_rankings": hidden,
        "entries": entries[:LEDGER_PAGE],
        "entries_count": count,
        "entries_count_capped": capped,
        "entries_more": len(entries) > LEDGER_PAGE,
    }


# --------------------------------------------------------------------------------------------- rules
def _inside_street(user, street: OrgUnit) -> bool:
    """Staff working in or above the street, and members living in it, may read its rules."""
    if in_scope(user, street.path) or any(
        path.startswith(street.path) for path in getattr(user, "scope_paths", [])
    ):
        return True
    mine = own_file(user)
    return mine is not None and mine.community.path.startswith(street.path)


def _rules_out(rules: list[PointsRule]) -> list[dict]:
    used = set(LedgerEntry.objects.filter(rule__in=rules).values_list("rule_id", flat=True).distinct())
    return [RuleOut.of(r, r.pk in used) for r in rules]


@router.get("/rules", response=list[RuleOut])
@paginate(Pagination, page_size=50)
def rules_list(request, street: str):
    unit = _unit(street, "street")
    if not _inside_street(request.user, unit):
        raise Http404
    rules = PointsRule.objects.filter(org=unit).select_related("org").order_by("-effective_from", "-id")
    return Listing(rules, rows=_rules_out, seek=("-effective_from", "-id"))


@router.post("/rules", response={201: RuleOut})
def rules_create(request, payload: RuleIn):
    street = _unit(payload.street, "street")
    if street.kind != OrgKind.STREET:
        raise UserError("not_a_street", _("Points rules belong to a street"), field="street")
    rule = services.rule_create(
        actor=request.user,
        street=street,
        effective_from=payload.effective_from,
        band_limits=payload.band_limits,
        table=payload.table,
        daily_cap=payload.daily_cap,
        monthly_cap=payload.monthly_cap,
        note=payload.note,
    )
    return 201, RuleOut.of(rule, False)


@router.patch("/rules/{rule_id}", response=RuleOut)
def rules_update(request, rule_id: int, payload: RulePatch):
    rule = get_in_scope_or_404(request.user, PointsRule.objects.select_related("org"), pk=rule_id)
    rule = services.rule_update(actor=request.user, rule=rule, **payload.dict(exclude_none=True))
    return RuleOut.of(rule, rule.entries.exists())


# -------------------------------------------------------------------------------------------- ledger
@router.get("/me", response=LedgerOut)
def my_ledger(request):
    return _ledger(_my_file(request))


@router.post("/me/ranking-visibility", response=LedgerOut)
def my_visibility(request, payload: VisibilityIn):
    member = _my_file(request)
    services.ranking_visibility_set(actor=request.user, member=member, hidden=payload.hidden)
    member.refresh_from_db()
    return _ledger(Member.objects.select_related("points_balance").get(pk=member.pk))


@router.get("/members/{member_id}/ledger", response=LedgerOut)
def member_ledger(request, member_id: int):
    if not permissions.is_staff(request.user):
        member = _my_file(request)
        if member.pk != member_id:
            raise Http404
        return _ledger(member)
    member = get_in_scope_or_404(request.user, Member.objects.select_related("points_balance"), pk=member_id)
    return _ledger(member)


@router.post("/members/{member_id}/adjustments", response={201: EntryOut})
def member_adjust(request, member_id: int, payload: AdjustIn):
    member = get_in_scope_or_404(request.user, Member.objects.select_related("community"), pk=member_id)
    entry = services.points_adjust(
        actor=request.user, member=member, points=payload.points, reason=payload.reason
    )
    return 201, EntryOut.of(entry)


# ------------------------------------------------------------------------------------------ benefits
@router.get("/benefits", response=list[BenefitOut])
@paginate(Pagination, page_size=50)
def benefits_list(request):
    if permissions.is_staff(request.user):
        rows = scope_queryset(request.user, Benefit.objects.select_related("org", "venue"))
        return Listing(rows.order_by("org__path", "kind", "name", "id"), row=BenefitOut.of)
    member = _my_file(request)
    rows = (
        selectors.benefits_for(member, current_time())
        .select_related("org")
        .order_by("kind", "min_points", "name", "id")
    )
    return Listing(rows, row=BenefitOut.of)


@router.post("/benefits", response={201: BenefitOut})
def benefits_create(request, payload: BenefitIn):
    org = _unit(payload.org)
    venue = None
    if payload.venue is not None:
        venue = Venue.objects.filter(pk=payload.venue).first()
        if venue is None:
            raise UserError("unknown_venue", _("No such venue"), field="venue")
    fields = payload.dict(exclude={"org", "kind", "name", "venue"})
    benefit = services.benefit_create(
        actor=request.user, org=org, kind=payload.kind, name=payload.name, venue=venue, **fields
    )
    return 201, BenefitOut.of(benefit)


def _visible_benefit(request, benefit_id: int) -> Benefit:
    benefit = Benefit.objects.select_related("org").filter(pk=benefit_id).first()
    if benefit is None:
        raise Http404
    if permissions.is_staff(request.user):
        if not in_scope(request.user, benefit.org.path):
            raise Http404
        return benefit
    member = _my_file(request)
    if not member.community.path.startswith(benefit.org.path):
        raise Http404
    return benefit


@router.get("/benefits/{benefit_id}/slots", response=list[SlotOut])
@paginate(Pagination, page_size=50)
def slots_list(request, benefit_id: int):
    benefit = _visible_benefit(request, benefit_id)
    rows = selectors.upcoming_slots(benefit, current_time()).order_by("starts_at", "id")
    return Listing(rows, row=SlotOut.of, seek=("starts_at", "id"))


@router.post("/benefits/{benefit_id}/slots", response={201: SlotOut})
def slots_create(request, benefit_id: int, payload: SlotIn):
    benefit = get_in_scope_or_404(request.user, Benefit.objects.select_related("org"), pk=benefit_id)
    slot = services.slot_create(actor=request.user, benefit=benefit, **payload.dict())
    return 201, SlotOut.of(slot)


# ------------------------------------------------------------------------------------------ bookings
@router.get("/bookings", response=list[BookingOut])
@paginate(Pagination, page_size=50)
def bookings_list(request):
    member = _my_file(request)
    rows = selectors.bookings_of(member).select_related("spend")
    return Listing(rows, row=BookingOut.of, seek=("-created_at", "-id"))


@router.post("/bookings", response={201: BookingOut})
def bookings_create(request, payload: BookingIn):
    member = _member_for(request, payload.member)
    slot = Slot.objects.select_related("benefit__org").filter(pk=payload.slot).first()
    if slot is None:
        raise Http404
    booking = services.booking_create(
        actor=request.user,
        slot=slot,
        member=member,
        household_member=_household(member, payload.household_member),
    )
    return 201, BookingOut.of(
        Booking.objects.select_related("slot__benefit", "spend", "household_member", "member").get(
            pk=booking.pk
        )
    )


@router.post("/bookings/{booking_id}/cancel", response=BookingOut)
def bookings_cancel(request, booking_id: int):
    booking = Booking.objects.select_related("member__community", "member__org").filter(pk=booking_id).first()
    if booking is None:
        raise Http404
    _member_for(request, booking.member_id)
    services.booking_cancel(actor=request.user, booking=booking)
    return BookingOut.of(
        Booking.objects.select_related("slot__benefit", "spend", "household_member", "member").get(
            pk=booking.pk
        )
    )


# -------------------------------------------------------------------------------------------- passes
@router.post("/passes", response={201: PassOut})
def passes_issue(request, payload: PassIn):
    member = _member_for(request, payload.member)
    benefit = Benefit.objects.select_related("org").filter(pk=payload.benefit).first()
    if benefit is None:
        raise Http404
    issued = services.pass_issue(
        actor=request.user,
        benefit=benefit,
        member=member,
        household_member=_household(member, payload.household_member),
    )
    return 201, PassOut.of(issued)


@router.post("/passes/use", response=PassOut)
def passes_use(request, payload: PassUseIn):
    return PassOut.of(services.pass_use(actor=request.user, code=payload.code))


# ------------------------------------------------------------------------------------------ rankings
def _period(start: dt.date | None, end: dt.date | None) -> tuple[dt.datetime, dt.datetime]:
    today = timezone.localdate()
    start = start or today.replace(day=1)
    end = end or today
    if end < start:
        raise UserError("invalid_period", _("end cannot be before start"), field="end")
    return (
        timezone.make_aware(dt.datetime.combine(start, dt.time.min)),
        timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min)),
    )


@router.get("/rankings", response=list[RankRow])
def rankings(
    request,
    dimension: str,
    unit: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int = 20,
):
    """Staff see their scope with full names; members see their own community / grid / Party organisation,
    masked and without those who opted out; an employer Party organisation's account sees its own."""
    if dimension not in selectors.DIMENSIONS:
        raise UserError(
            "invalid_dimension", _("dimension must be community, grid or party_org"), field="dimension"
        )
    since, until = _period(start, end)
    limit = max(1, min(limit, 100))
    staff = permissions.is_staff(request.user)
    if dimension == "party_org":
        party = EmployerPartyOrg.objects.filter(pk=int(unit) if unit.isdigit() else 0).first()
        if party is None:
            raise Http404
        unit_id = party.pk
        mine = own_file(request.user)
        allowed = (
            (
                staff
                and scope_queryset(request.user, Member.objects.filter(party_org=party), "org__path").exists()
            )
            or party.account_id == request.user.pk
            or (mine is not None and mine.party_org_id == party.pk)
        )
        if not allowed:
            raise Http404
        public = not staff
    else:
        org = OrgUnit.objects.filter(code=unit).first()
        if org is None:
            raise Http404
        unit_id = org.pk
        if staff:
            if not in_scope(request.user, org.path):
                raise Http404
            public = False
        else:
            mine = own_file(request.user)
            if mine is None or org.pk not in (mine.community_id, _grid_id(mine)):
                raise Http404
            public = True
    return selectors.ranking(
        actor=request.user,
        dimension=dimension,
        unit_id=unit_id,
        start=since,
        end=until,
        limit=limit,
        public=public,
    )


def _grid_id(member: Member) -> int | None:
    from kangle.orgs.selectors import ancestor_of_kind

    if not member.microgrid_id:
        return None
    grid = ancestor_of_kind(member.microgrid, OrgKind.GRID)
    return grid.pk if grid else None
