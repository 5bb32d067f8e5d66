"""Earning points: awards for verified service records and their reversals (the interface activities calls).

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

Invariants (checked by ``kangle ledger-check``, see ``checks.py``): entries are never updated or deleted;
one entry per idempotency key; an award carries its rule and version, was in force at ``occurred_at``,
``points ≤ base_points = table value``, caps held; a reversal negates exactly one award of the same member.
"""

from __future__ import annotations

import datetime as dt
import json

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kangle.core import audit
from kangle.core.errors import NotAllowed, UserError
from kangle.core.timeutil import resolve_now
from kangle.members.models import Member
from kangle.orgs.scope import in_scope
from kangle.points import permissions
from kangle.points.models import (
    DIFFICULTIES,
    EntryKind,
    LedgerEntry,
    PointsRule,
)
from kangle.points.selectors import rule_in_force
from kangle.points.services.ledger import (
    MAX_MINUTES,
    actor_user,
    balance_lock,
    entry_append,
    local_day,
    member_dimensions,
    require_aware,
    street_of,
)


def award_key(source_type: str, source_id: str) -> str:
    return f"award:{source_type}:{source_id}"


def _month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following


def _award_input_clean(
    *, source_type, source_id, difficulty, duration_minutes, occurred_at, evidence, moment
) -> tuple[str, str, dict]:
    """The award's input checked (nothing written yet): (source_type, source_id, evidence as stored)."""
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
    require_aware(occurred_at, "occurred_at")
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
    return source_type, source_id, evidence


def _award_capped(member: Member, rule: PointsRule, base: int, day: dt.date) -> tuple[int, str]:
    """The points after the rule's daily and monthly caps (net awards of the member's local day / month),
    and which cap lowered them ("" when none did)."""
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
    return points, capped


def _award_permitted(actor, member: Member) -> None:
    """A verifier must reach the member's community (404 otherwise) and hold an awarding role there; a
    system job (``actor is None``) may always award."""
    if actor is None:
        return
    if not in_scope(actor, member.org.path):
        raise Http404
    if not permissions.can_award(actor, member.org):
        raise NotAllowed()


def _award_already_written(key: str, member: Member) -> LedgerEntry | None:
    """The entry an earlier call wrote for this record (the call is idempotent), or None; refused when
    the record earned points for another member."""
    existing = LedgerEntry.objects.filter(idempotency_key=key).first()
    if existing is not None and existing.member_id != member.pk:
        raise UserError(
            "source_awarded_elsewhere",
            _("This record has already earned points for another member"),
            field="source_id",
        )
    return existing


def _award_rule(street, occurred_at: dt.datetime) -> PointsRule:
    """The street's rule version in force at ``occurred_at``; refused when there is none."""
    rule = rule_in_force(street, occurred_at)
    if rule is None:
        when = timezone.localtime(occurred_at).strftime("%Y-%m-%d %H:%M")
        raise UserError(
            "no_rule", _("No points rule was in force at %(when)s"), field="occurred_at", when=when
        )
    return rule


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
    source_type, source_id, evidence = _award_input_clean(
        source_type=source_type,
        source_id=source_id,
        difficulty=difficulty,
        duration_minutes=duration_minutes,
        occurred_at=occurred_at,
        evidence=evidence,
        moment=moment,
    )
    _award_permitted(actor, member)
    key = award_key(source_type, source_id)
    street = street_of(member.community)
    with transaction.atomic():
        balance = balance_lock(member)
        existing = _award_already_written(key, member)
        if existing is not None:
            return existing
        rule = _award_rule(street, occurred_at)
        base = rule.points_for(difficulty, duration_minutes)
        day = local_day(occurred_at)
        points, capped = _award_capped(member, rule, base, day)
        try:
            with transaction.atomic():
                entry = entry_append(
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
                    actor=actor_user(actor),
                    reason=f"capped:{capped}" if capped else "",
                    evidence=evidence,
                    **member_dimensions(member),
                )
        except IntegrityError:
            raise UserError(
                "source_awarded_elsewhere", _("This record has already earned points"), field="source_id"
            ) from None
        audit.record(
            actor=actor,
            verb="ledger.award",
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
        balance = balance_lock(member)
        existing = LedgerEntry.objects.filter(reverses=award).first()
        if existing is not None:
            return existing
        entry = entry_append(
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
            actor=actor_user(actor),
            reason=reason[:300],
            community_id=award.community_id,
            grid_id=award.grid_id,
            party_org_id=award.party_org_id,
            org_path=award.org_path,
        )
        audit.record(
            actor=actor,
            verb="ledger.reverse",
            obj=member,
            now=moment,
            details={"award": award.pk, "points": entry.points, "reason": reason[:300]},
        )
    return entry
