"""Manual point adjustments with a second pair of eyes: above the street's limit a second street admin
approves before anything reaches the ledger. The ledger write itself is ``points_adjust`` (reason
required, ±100 at most, never below zero)."""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kangle.core import audit
from kangle.core.errors import NotAllowed, UserError
from kangle.core.roles import Role
from kangle.core.timeutil import resolve_now
from kangle.members.models import Member
from kangle.notify.services import notify_user
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import get_in_scope_or_404, in_scope
from kangle.points import permissions
from kangle.points.models import (
    AdjustmentLimit,
    AdjustmentRequest,
    AdjustmentStatus,
    EntryKind,
    LedgerEntry,
)
from kangle.points.services.ledger import (
    actor_user,
    balance_lock,
    entry_append,
    local_day,
    member_dimensions,
    street_of,
)

DEFAULT_APPROVAL_ABOVE = 20
MAX_ADJUSTMENT = 100


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
        balance = balance_lock(member)
        if balance.total + points < 0:
            raise UserError(
                "insufficient_points",
                _("The balance is %(total)s; cannot deduct %(value)s"),
                field="points",
                total=balance.total,
                value=-points,
            )
        entry = entry_append(
            balance,
            member=member,
            kind=EntryKind.ADJUSTMENT,
            points=points,
            idempotency_key=f"adjustment:{secrets.token_hex(12)}",
            source_type="adjustment",
            occurred_at=moment,
            occurred_on=local_day(moment),
            recorded_at=moment,
            actor=actor_user(actor),
            reason=reason[:300],
            **member_dimensions(member),
        )
        audit.record(
            actor=actor,
            verb="ledger.adjust",
            obj=member,
            now=moment,
            details={"points": points, "reason": reason[:300]},
        )
    return entry


def approval_above(street: OrgUnit) -> int:
    row = AdjustmentLimit.objects.filter(org=street).first()
    return DEFAULT_APPROVAL_ABOVE if row is None else row.approval_above


@transaction.atomic
def adjustment_limit_set(
    *, actor, street: OrgUnit, approval_above: int, now: dt.datetime | None = None
) -> AdjustmentLimit:
    moment = resolve_now(now)
    if not in_scope(actor, street.path):
        raise Http404
    if not actor.is_superuser and not actor.has_role(Role.STREET_ADMIN, within=street):
        raise NotAllowed(_("Only a street admin sets this"))
    if not isinstance(approval_above, int) or not 1 <= approval_above <= MAX_ADJUSTMENT:
        raise UserError(
            "invalid_limit",
            _("The limit must be from 1 to %(MAX_ADJUSTMENT)s"),
            field="approval_above",
            MAX_ADJUSTMENT=MAX_ADJUSTMENT,
        )
    row, _created = AdjustmentLimit.objects.update_or_create(
        org=street, defaults={"approval_above": approval_above, "updated_at": moment, "updated_by": actor}
    )
    audit.record(
        actor=actor,
        verb="ledger.adjustment_limit",
        obj=street,
        details={"approval_above": approval_above},
        now=moment,
    )
    return row


def points_adjust_request(
    *, actor, member: Member, points: int, reason: str, now: dt.datetime | None = None
) -> LedgerEntry | AdjustmentRequest:
    """Adjust now when within the street's limit; otherwise file a request for a second street admin."""
    moment = resolve_now(now)
    if not in_scope(actor, member.community.path):
        raise Http404
    street = street_of(member.community)
    if not isinstance(points, int) or isinstance(points, bool) or abs(points) <= approval_above(street):
        return points_adjust(actor=actor, member=member, points=points, reason=reason, now=moment)
    if not permissions.can_adjust(actor, member.community):
        raise NotAllowed(_("Only a street admin may adjust points by hand"))
    reason = (reason or "").strip()
    if not reason:
        raise UserError("reason_required", _("A reason for the adjustment is required"), field="reason")
    if abs(points) > MAX_ADJUSTMENT:
        raise UserError(
            "invalid_points", _("points must be a non-zero whole number within ±100"), field="points"
        )
    with transaction.atomic():
        request = AdjustmentRequest.objects.create(
            member=member,
            points=points,
            reason=reason[:300],
            org_path=member.community.path,
            requested_by=actor,
            requested_at=moment,
        )
        audit.record(
            actor=actor,
            verb="ledger.adjust_request",
            obj=member,
            details={"points": points, "reason": reason[:300], "request": request.pk},
            now=moment,
        )
    return request


def access_request(actor, request_id) -> AdjustmentRequest:
    try:
        return get_in_scope_or_404(
            actor,
            AdjustmentRequest.objects.select_related("member__community", "requested_by"),
            "org_path",
            pk=int(request_id),
        )
    except (TypeError, ValueError):
        raise Http404 from None


@transaction.atomic
def adjustment_decide(
    *, actor, request: AdjustmentRequest, approve: bool, now: dt.datetime | None = None
) -> AdjustmentRequest:
    moment = resolve_now(now)
    request = (
        AdjustmentRequest.objects.select_for_update().select_related("member__community").get(pk=request.pk)
    )
    if not in_scope(actor, request.org_path):
        raise Http404
    if not permissions.can_adjust(actor, request.member.community):
        raise NotAllowed(_("Only a street admin approves"))
    if request.requested_by_id == actor.pk:
        raise UserError("same_admin", _("A second street admin must approve"), field="decision", status=403)
    if request.status != AdjustmentStatus.PENDING:
        raise UserError("already_decided", _("This request has already been decided"), status=409)
    if approve:
        entry = points_adjust(
            actor=actor,
            member=request.member,
            points=request.points,
            reason=f"{request.reason}（{request.requested_by} 申请）",
            now=moment,
        )
        request.entry = entry
    request.status = AdjustmentStatus.APPROVED if approve else AdjustmentStatus.REJECTED
    request.decided_by = actor
    request.decided_at = moment
    request.save(update_fields=["status", "decided_by", "decided_at", "entry"])
    audit.record(
        actor=actor,
        verb="ledger.adjust_decide",
        obj=request.member,
        details={"request": request.pk, "approved": bool(approve)},
        now=moment,
    )
    notify_user(
        recipient=request.requested_by,
        title=_("Your points adjustment request was approved")
        if approve
        else _("Your points adjustment request was rejected"),
        body="%(member)s %(points)s",
        params={"member": request.member.name, "points": f"{request.points:+d}"},
        now=moment,
    )
    return request
