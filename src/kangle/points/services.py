"""Every write to points: rules, the ledger, benefits, bookings and priority passes.

The interface the activities app calls
======================================

``award_for_service(*, actor, member, source_type, source_id, difficulty, duration_minutes, occurred_at,
evidence, now=None) -> LedgerEntry``
    Called when a service record is verified. ``source_type`` / ``source_id`` name the record (e.g.
    ``"service_record"``, ``"4711"``); the pair is the idempotency key ``award:<type>:<id>``, unique in the
    database, so one record never awards twice — a second call (also a concurrent one) returns the entry the
    first call wrote. ``difficulty`` is 1–5, ``duration_minutes`` 1–1440, ``occurred_at`` an aware datetime
    not in the future. The rule version in force at ``occurred_at`` (the street's latest version whose
    ``effective_from`` ≤ ``occurred_at``) gives the points; the daily and monthly caps of that version
    (counted on the member's net awards for the local day / month of ``occurred_at``) may lower them, to 0
    if the cap is reached — a 0-point entry is still written, so the record is accounted for and the member
    sees why. ``evidence`` is stored as given (a JSON object); recognition reads these keys when present:
    ``title``, ``hours``, ``beneficiaries`` (int), ``aspect`` (a members.constants.Aspect code),
    ``community`` (an OrgUnit code), ``rating`` (residents' approval, 1–5), ``activity_id``.
    ``actor`` is the verifier (staff with an awarding role over the member's community) or ``None`` for a
    system job. Raises ``UserError`` (nothing written) for bad input or when no rule is in force.

``reverse_award(*, actor, source_type, source_id, reason, now=None) -> LedgerEntry``
    Called when a verified record is revoked: appends a reversal (``-points`` of the award, same
    ``occurred_at`` so period figures net out). Calling it again returns the same reversal. Raises
    ``UserError`` if the record never awarded.

``signup_opens_at(*, member_or_household, base_opens_at, now=None, org=None) -> datetime``
    When this person may sign up for an activity whose sign-up opens for everyone at ``base_opens_at``:
    earlier by the largest ``early_hours`` of the open early-sign-up benefits at ``org`` or above (default:
    the member's community) whose ``min_points`` the member's balance reaches. A HouseholdMember uses the
    balance of the member they belong to (when the benefit allows households).

Invariants (checked by ``kangle ledger-check``, see ``checks.py``): entries are never updated or deleted;
one entry per idempotency key; an award carries its rule and version, was in force at ``occurred_at``,
``points ≤ base_points = table value``, caps held; a reversal negates exactly one award of the same member;
spends never exceed the balance at the time; the cached balance equals the sum.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kangle.core import audit
from kangle.core.errors import NotAllowed, UserError
from kangle.core.timeutil import resolve_now
from kangle.members.models import HouseholdMember, Member
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.scope import in_scope
from kangle.orgs.selectors import ancestor_of_kind
from kangle.points import permissions
from kangle.points.models import (
    DIFFICULTIES,
    Balance,
    Benefit,
    BenefitKind,
    Booking,
    BookingStatus,
    EntryKind,
    LedgerEntry,
    PointsRule,
    PriorityPass,
    ResourceKind,
    Slot,
)

MAX_MINUTES = 24 * 60
MAX_ADJUSTMENT = 100


# --------------------------------------------------------------------------------------------- helpers
def _local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def _month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following


def street_of(unit: OrgUnit) -> OrgUnit:
    street = ancestor_of_kind(unit, OrgKind.STREET)
    if street is None:
        raise UserError("no_street", _("%(name)s is not inside a street"), name=unit.name)
    return street


def _locked_balance(member: Member) -> Balance:
    """The member's balance row, locked for this transaction: it serialises awards and spends per member."""
    Balance.objects.get_or_create(member=member)
    return Balance.objects.select_for_update().get(member=member)


def balance_of(member: Member) -> int:
    """The balance as the sum of the ledger (the cached total is only checked against it)."""
    return LedgerEntry.objects.filter(member=member).aggregate(total=Sum("points"))["total"] or 0


def _dimensions(member: Member) -> dict:
    grid = None
    if member.microgrid_id:
        grid = ancestor_of_kind(member.microgrid, OrgKind.GRID)
    return {
        "community_id": member.community_id,
        "grid_id": grid.pk if grid else None,
        "party_org_id": member.party_org_id,
        "org_path": member.org.path,
    }


def _append(balance: Balance, **fields) -> LedgerEntry:
    entry = LedgerEntry.objects.create(**fields)
    Balance.objects.filter(pk=balance.pk).update(total=F("total") + entry.points, entries=F("entries") + 1)
    balance.total += entry.points
    balance.entries += 1
    return entry


def _require_aware(value, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        raise UserError(
            "invalid_time", _("%(field_value)s must be an aware datetime"), field=field, field_value=field
        )
    return value


# ------------------------------------------------------------------------------------------------ rules
def rule_in_force(street: OrgUnit, moment: dt.datetime) -> PointsRule | None:
    return (
        PointsRule.objects.filter(org=street, effective_from__lte=moment).order_by("-effective_from").first()
    )


def _validate_table(band_limits, table, daily_cap, monthly_cap) -> tuple[list[int], list[list[int]]]:
    if (
        not isinstance(band_limits, list)
        or not band_limits
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in band_limits)
        or any(b <= a for a, b in zip(band_limits, band_limits[1:], strict=False))
        or band_limits[-1] > MAX_MINUTES
    ):
        raise UserError(
            "invalid_bands",
            _("Duration band limits must be increasing positive minutes (at most 1440)"),
            field="band_limits",
        )
    columns = len(band_limits) + 1
    if not isinstance(table, list) or len(table) != len(DIFFICULTIES):
        raise UserError("invalid_table", _("The points table needs 5 rows (difficulty 1–5)"), field="table")
    for d, row in enumerate(table, start=1):
        if not isinstance(row, list) or len(row) != columns:
            raise UserError(
                "invalid_table",
                _("Row %(d)s of the points table needs %(columns)s columns"),
                field="table",
                d=d,
                columns=columns,
            )
        for value in row:
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
                raise UserError(
                    "invalid_table",
                    _("Row %(d)s of the points table must hold whole numbers from 1 to 5"),
                    field="table",
                    d=d,
                )
    for name, value in (("daily_cap", daily_cap), ("monthly_cap", monthly_cap)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
            raise UserError("invalid_cap", _("A cap must be a whole number from 1 to 1000"), field=name)
    if monthly_cap < daily_cap:
        raise UserError(
            "invalid_cap", _("The monthly cap cannot be below the daily cap"), field="monthly_cap"
        )
    return band_limits, table


def _refuse_if_changes_past(street: OrgUnit, effective_from: dt.datetime, rule: PointsRule | None) -> None:
    """A version taking over at ``effective_from`` would govern services from then until the next version;
    if awards already exist in that span under another version, the edit would rewrite history: refused."""
    later = PointsRule.objects.filter(org=street, effective_from__gt=effective_from)
    if rule is not None:
        later = later.exclude(pk=rule.pk)
    until = later.order_by("effective_from").values_list("effective_from", flat=True).first()
    affected = LedgerEntry.objects.filter(
        kind=EntryKind.AWARD, rule__org=street, occurred_at__gte=effective_from
    )
    if until is not None:
        affected = affected.filter(occurred_at__lt=until)
    if rule is not None:
        affected = affected.exclude(rule=rule)
    latest = affected.aggregate(m=Max("occurred_at"))["m"]
    if latest is not None:
        when = timezone.localtime(latest).strftime("%Y-%m-%d %H:%M")
        raise UserError(
            "rule_changes_past_awards",
            _(
                "The effective date lies before services that already earned points (latest %(when)s); it would change past awards. Choose a date after %(when)s"
            ),
            field="effective_from",
            when=when,
        )


def rule_create(
    *,
    actor,
    street: OrgUnit,
    effective_from: dt.datetime,
    band_limits: list[int] | None = None,
    table: list[list[int]] | None = None,
    daily_cap: int = 10,
    monthly_cap: int = 60,
    note: str = "",
    now: dt.datetime | None = None,
) -> PointsRule:
    """A new version of the street's table, in force from ``effective_from``."""
    from kangle.points.models import DEFAULT_BAND_LIMITS, default_table

    moment = resolve_now(now)
    if not in_scope(actor, street.path):
        raise Http404
    if not permissions.can_edit_rules(actor, street):
        raise NotAllowed()
    _require_aware(effective_from, "effective_from")
    band_limits, table = _validate_table(
        DEFAULT_BAND_LIMITS if band_limits is None else band_limits,
        default_table() if table is None else table,
        daily_cap,
        monthly_cap,
    )
    with transaction.atomic():
        # One editor at a time per street: lock the street's versions.
        list(PointsRule.objects.select_for_update().filter(org=street).values_list("pk", flat=True))
        if PointsRule.objects.filter(org=street, effective_from=effective_from).exists():
            raise UserError(
                "rule_same_moment", _("Another version takes effect at that moment"), field="effective_from"
            )
        _refuse_if_changes_past(street, effective_from, None)
        version = (PointsRule.objects.filter(org=street).aggregate(v=Max("version"))["v"] or 0) + 1
        rule = PointsRule.objects.create(
            org=street,
            version=version,
            effective_from=effective_from,
            band_limits=band_limits,
            table=table,
            daily_cap=daily_cap,
            monthly_cap=monthly_cap,
            note=note[:300],
            created_by=_user(actor),
            created_at=moment,
        )
        audit.record(
            actor=actor,
            verb="points.rule_create",
            obj=rule,
            now=moment,
            details={"version": version, "effective_from": effective_from.isoformat()},
        )
    return rule


def rule_update(*, actor, rule: PointsRule, data: dict, now: dt.datetime | None = None) -> PointsRule:
    """Change a version that no award has used yet; a used version is frozen (make a new version instead)."""
    moment = resolve_now(now)
    if not in_scope(actor, rule.org.path):
        raise Http404
    if not permissions.can_edit_rules(actor, rule.org):
        raise NotAllowed()
    allowed = {"effective_from", "band_limits", "table", "daily_cap", "monthly_cap", "note"}
    unknown = set(data) - allowed
    if unknown:
        raise UserError(
            "invalid_field",
            _("Cannot change: %(fields)s"),
            field=sorted(unknown)[0],
            fields=", ".join(sorted(unknown)),
        )
    with transaction.atomic():
        rule = PointsRule.objects.select_for_update().get(pk=rule.pk)
        if rule.entries.exists():
            raise UserError(
                "rule_in_use",
                _(
                    "Rule version v%(version)s has already given points and cannot change; create a new version with an effective date"
                ),
                field="table",
                version=rule.version,
            )
        effective_from = _require_aware(data.get("effective_from", rule.effective_from), "effective_from")
        band_limits, table = _validate_table(
            data.get("band_limits", rule.band_limits),
            data.get("table", rule.table),
            data.get("daily_cap", rule.daily_cap),
            data.get("monthly_cap", rule.monthly_cap),
        )
        if (
            PointsRule.objects.filter(org=rule.org, effective_from=effective_from)
            .exclude(pk=rule.pk)
            .exists()
        ):
            raise UserError(
                "rule_same_moment", _("Another version takes effect at that moment"), field="effective_from"
            )
        _refuse_if_changes_past(rule.org, effective_from, rule)
        rule.effective_from, rule.band_limits, rule.table = effective_from, band_limits, table
        rule.daily_cap = data.get("daily_cap", rule.daily_cap)
        rule.monthly_cap = data.get("monthly_cap", rule.monthly_cap)
        rule.note = str(data.get("note", rule.note))[:300]
        rule.save(
            update_fields=["effective_from", "band_limits", "table", "daily_cap", "monthly_cap", "note"]
        )
        audit.record(
            actor=actor, verb="points.rule_update", obj=rule, now=moment, details={"fields": sorted(data)}
        )
    return rule


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


# ----------------------------------------------------------------------------------------------- awards
def award_key(source_type: str, source_id: str) -> str:
    return f"award:{source_type}:{source_id}"


def award_for_service(
    *,
    actor,
    member: Member,
    source_type: str,
    source_id: str,
    difficulty: int,
    duration_minutes: int,
    occurred_at: dt.datetime,
    evidence: dict,
    now: dt.datetime | None = None,
) -> LedgerEntry:
    """Award points for one verified service (see the module docstring for the contract)."""
    moment = resolve_now(now)
    source_type, source_id = str(source_type or "").strip(), str(source_id or "").strip()
    if not source_type or len(source_type) > 40:
        raise UserError("invalid_source", _("source_type must be 1–40 characters"), field="source_type")
    if not source_id or len(source_id) > 80:
        raise UserError("invalid_source", _("source_id must be 1–80 characters"), field="source_id")
    if not isinstance(difficulty, int) or isinstance(difficulty, bool) or difficulty not in DIFFICULTIES:
        raise UserError(
            "invalid_difficulty", _("difficulty must be a whole number from 1 to 5"), field="difficulty"
        )
    if (
        not isinstance(duration_minutes, int)
        or isinstance(duration_minutes, bool)
        or not 1 <= duration_minutes <= MAX_MINUTES
    ):
        raise UserError(
            "invalid_duration", _("duration_minutes must be from 1 to 1440"), field="duration_minutes"
        )
    _require_aware(occurred_at, "occurred_at")
    if occurred_at > moment:
        raise UserError("future_service", _("occurred_at cannot be in the future"), field="occurred_at")
    if not isinstance(evidence, dict):
        raise UserError("invalid_evidence", _("evidence must be an object"), field="evidence")
    try:
        evidence = json.loads(json.dumps(evidence, ensure_ascii=False, default=str))
    except (TypeError, ValueError):
        raise UserError(
            "invalid_evidence", _("evidence cannot be stored as JSON"), field="evidence"
        ) from None
    if actor is not None:
        if not in_scope(actor, member.org.path):
            raise Http404
        if not permissions.can_award(actor, member.org):
            raise NotAllowed()

    key = award_key(source_type, source_id)
    street = street_of(member.community)
    with transaction.atomic():
        balance = _locked_balance(member)
        existing = LedgerEntry.objects.filter(idempotency_key=key).first()
        if existing is not None:
            if existing.member_id != member.pk:
                raise UserError(
                    "source_awarded_elsewhere",
                    _("This record has already earned points for another member"),
                    field="source_id",
                )
            return existing
        rule = rule_in_force(street, occurred_at)
        if rule is None:
            when = timezone.localtime(occurred_at).strftime("%Y-%m-%d %H:%M")
            raise UserError(
                "no_rule", _("No points rule was in force at %(when)s"), field="occurred_at", when=when
            )
        base = rule.points_for(difficulty, duration_minutes)
        day = _local_day(occurred_at)
        first, following = _month_bounds(day)
        net = LedgerEntry.objects.filter(member=member, kind__in=(EntryKind.AWARD, EntryKind.REVERSAL))
        day_total = net.filter(occurred_on=day).aggregate(s=Sum("points"))["s"] or 0
        month_total = (
            net.filter(occurred_on__gte=first, occurred_on__lt=following).aggregate(s=Sum("points"))["s"] or 0
        )
        points = max(0, min(base, rule.daily_cap - day_total, rule.monthly_cap - month_total))
        capped = ""
        if points < base:
            capped = "daily" if rule.daily_cap - day_total <= rule.monthly_cap - month_total else "monthly"
        try:
            with transaction.atomic():
                entry = _append(
                    balance,
                    member=member,
                    kind=EntryKind.AWARD,
                    points=points,
                    idempotency_key=key,
                    source_type=source_type,
                    source_id=source_id,
                    rule=rule,
                    rule_version=rule.version,
                    difficulty=difficulty,
                    duration_minutes=duration_minutes,
                    base_points=base,
                    occurred_at=occurred_at,
                    occurred_on=day,
                    recorded_at=moment,
                    actor=_user(actor),
                    reason=f"capped:{capped}" if capped else "",
                    evidence=evidence,
                    **_dimensions(member),
                )
        except IntegrityError:
            raise UserError(
                "source_awarded_elsewhere", _("This record has already earned points"), field="source_id"
            ) from None
        audit.record(
            actor=actor,
            verb="points.award",
            obj=member,
            now=moment,
            details={"key": key, "points": points, "base": base, "rule_version": rule.version},
        )
    return entry


def reverse_award(
    *, actor, source_type: str, source_id: str, reason: str, now: dt.datetime | None = None
) -> LedgerEntry:
    """Undo the award of a revoked record by appending its negation (idempotent)."""
    moment = resolve_now(now)
    reason = (reason or "").strip()
    if not reason:
        raise UserError("reason_required", _("A reason for the revocation is required"), field="reason")
    award = (
        LedgerEntry.objects.select_related("member__community", "member__org")
        .filter(idempotency_key=award_key(str(source_type), str(source_id)))
        .first()
    )
    if award is None:
        raise UserError("no_award", _("This record never earned points"), field="source_id", status=404)
    member = award.member
    if actor is not None:
        if not in_scope(actor, member.org.path):
            raise Http404
        if not permissions.can_award(actor, member.org):
            raise NotAllowed()
    with transaction.atomic():
        balance = _locked_balance(member)
        existing = LedgerEntry.objects.filter(reverses=award).first()
        if existing is not None:
            return existing
        entry = _append(
            balance,
            member=member,
            kind=EntryKind.REVERSAL,
            points=-award.points,
            idempotency_key=f"reversal:{award.source_type}:{award.source_id}",
            source_type=award.source_type,
            source_id=award.source_id,
            reverses=award,
            occurred_at=award.occurred_at,
            occurred_on=award.occurred_on,
            recorded_at=moment,
            actor=_user(actor),
            reason=reason[:300],
            community_id=award.community_id,
            grid_id=award.grid_id,
            party_org_id=award.party_org_id,
            org_path=award.org_path,
        )
        audit.record(
            actor=actor,
            verb="points.reverse",
            obj=member,
            now=moment,
            details={"award": award.pk, "points": entry.points, "reason": reason[:300]},
        )
    return entry


def points_adjust(
    *, actor, member: Member, points: int, reason: str, now: dt.datetime | None = None
) -> LedgerEntry:
    """A street admin corrects a balance by hand, with a reason; never below zero."""
    moment = resolve_now(now)
    if not in_scope(actor, member.community.path):
        raise Http404
    if not permissions.can_adjust(actor, member.community):
        raise NotAllowed(_("Only a street admin may adjust points by hand"))
    reason = (reason or "").strip()
    if not reason:
        raise UserError("reason_required", _("A reason for the adjustment is required"), field="reason")
    if not isinstance(points, int) or isinstance(points, bool) or points == 0 or abs(points) > MAX_ADJUSTMENT:
        raise UserError(
            "invalid_points", _("points must be a non-zero whole number within ±100"), field="points"
        )
    with transaction.atomic():
        balance = _locked_balance(member)
        if balance.total + points < 0:
            raise UserError(
                "insufficient_points",
                _("The balance is %(total)s; cannot deduct %(value)s"),
                field="points",
                total=balance.total,
                value=-points,
            )
        entry = _append(
            balance,
            member=member,
            kind=EntryKind.ADJUSTMENT,
            points=points,
            idempotency_key=f"adjustment:{secrets.token_hex(12)}",
            source_type="adjustment",
            occurred_at=moment,
            occurred_on=_local_day(moment),
            recorded_at=moment,
            actor=_user(actor),
            reason=reason[:300],
            **_dimensions(member),
        )
        audit.record(
            actor=actor,
            verb="points.adjust",
            obj=member,
            now=moment,
            details={"points": points, "reason": reason[:300]},
        )
    return entry


def ranking_visibility_set(*, actor, member: Member, hidden: bool, now: dt.datetime | None = None) -> Balance:
    """A member opts out of (or back into) public rankings; only the member themself."""
    moment = resolve_now(now)
    if not permissions.owns(actor, member):
        raise Http404
    with transaction.atomic():
        balance = _locked_balance(member)
        Balance.objects.filter(pk=balance.pk).update(hide_from_rankings=bool(hidden))
        balance.hide_from_rankings = bool(hidden)
        audit.record(
            actor=actor, verb="points.ranking_visibility", obj=member, now=moment, details={"hidden": hidden}
        )
    return balance


def _spend(
    *, balance: Balance, member: Member, cost: int, key: str, reason: str, actor, moment
) -> LedgerEntry:
    if balance.total < cost:
        raise UserError(
            "insufficient_points",
            _("The balance is %(total)s; %(cost)s points are needed"),
            field="points",
            total=balance.total,
            cost=cost,
        )
    return _append(
        balance,
        member=member,
        kind=EntryKind.SPEND,
        points=-cost,
        idempotency_key=key,
        source_type="benefit",
        source_id=key.split(":", 1)[1],
        occurred_at=moment,
        occurred_on=_local_day(moment),
        recorded_at=moment,
        actor=_user(actor),
        reason=reason[:300],
        org_path=member.org.path,
    )


# --------------------------------------------------------------------------------------------- benefits
def _holder(member_or_household) -> tuple[Member, HouseholdMember | None]:
    if isinstance(member_or_household, HouseholdMember):
        return member_or_household.member, member_or_household
    if isinstance(member_or_household, Member):
        return member_or_household, None
    raise TypeError("expected a Member or a HouseholdMember")


def benefits_applying(unit: OrgUnit):
    """Benefits defined at ``unit`` or one of its ancestors."""
    return Benefit.objects.filter(org__code__in=unit.ancestor_codes())


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


BENEFIT_FIELDS = (
    "name",
    "description",
    "min_points",
    "cost_points",
    "early_hours",
    "resource_kind",
    "venue",
    "pass_valid_days",
    "for_household",
    "active_from",
    "active_until",
    "is_active",
)


def benefit_create(
    *, actor, org: OrgUnit, kind: str, name: str, now: dt.datetime | None = None, **fields
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
    unknown = set(fields) - set(BENEFIT_FIELDS)
    if unknown:
        raise UserError(
            "invalid_field",
            _("Unknown fields: %(fields)s"),
            field=sorted(unknown)[0],
            fields=", ".join(sorted(unknown)),
        )
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
    venue = fields.get("venue")
    if (
        venue is not None
        and not venue.org.path.startswith(org.path)
        and not org.path.startswith(venue.org.path)
    ):
        raise UserError("invalid_venue", _("The venue is outside this benefit's unit"), field="venue")
    with transaction.atomic():
        benefit = Benefit.objects.create(org=org, kind=kind, name=name[:100], created_at=moment, **fields)
        audit.record(
            actor=actor, verb="points.benefit_create", obj=benefit, now=moment, details={"kind": kind}
        )
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
    _require_aware(starts_at, "starts_at")
    _require_aware(ends_at, "ends_at")
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
        _require_aware(release_at, "release_at")
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
        audit.record(
            actor=actor, verb="points.slot_create", obj=benefit, now=moment, details={"slot": slot.pk}
        )
    return slot


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
        balance = _locked_balance(member)
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
            booking.spend = _spend(
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
            verb="points.book",
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
        balance = _locked_balance(booking.member)
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
            _append(
                balance,
                member=booking.member,
                kind=EntryKind.REFUND,
                points=-booking.spend.points,
                idempotency_key=f"refund:booking-{booking.pk}",
                source_type="benefit",
                source_id=f"booking-{booking.pk}",
                reverses=booking.spend,
                occurred_at=moment,
                occurred_on=_local_day(moment),
                recorded_at=moment,
                actor=_user(actor),
                reason="cancelled",
                org_path=booking.member.org.path,
            )
        audit.record(
            actor=actor,
            verb="points.booking_cancel",
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
        balance = _locked_balance(member)
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
            issued.spend = _spend(
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
            verb="points.pass_issue",
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
        PriorityPass.objects.filter(pk=issued.pk).update(used_at=moment, used_by=_user(actor))
        issued.used_at, issued.used_by = moment, _user(actor)
        audit.record(
            actor=actor, verb="points.pass_use", obj=issued.benefit, now=moment, details={"pass": issued.pk}
        )
    return issued


__all__ = [
    "award_for_service",
    "reverse_award",
    "signup_opens_at",
    "points_adjust",
    "rule_create",
    "rule_update",
    "benefit_create",
    "slot_create",
    "booking_create",
    "booking_cancel",
    "pass_issue",
    "pass_use",
    "ranking_visibility_set",
    "balance_of",
    "rule_in_force",
]
