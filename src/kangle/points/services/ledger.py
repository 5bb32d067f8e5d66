"""The ledger's write primitives every lifecycle shares: the member's locked balance row, appending an entry
(with the cached total kept in step), spending, and the small facts an entry records (local day, the member's
ranking dimensions, the acting user).

Entries are only ever appended; ``entry_append`` is the one place that writes one.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kangle.core.errors import UserError
from kangle.members.models import Member
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.selectors import ancestor_of_kind
from kangle.points.models import (
    Balance,
    EntryKind,
    LedgerEntry,
)

MAX_MINUTES = 24 * 60


def local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def street_of(unit: OrgUnit) -> OrgUnit:
    street = ancestor_of_kind(unit, OrgKind.STREET)
    if street is None:
        raise UserError("no_street", _("%(name)s is not inside a street"), name=unit.name)
    return street


def balance_lock(member: Member) -> Balance:
    """The member's balance row, locked for this transaction: it serialises awards and spends per member."""
    Balance.objects.get_or_create(member=member)
    return Balance.objects.select_for_update().get(member=member)


def member_dimensions(member: Member) -> dict:
    grid = None
    if member.microgrid_id:
        grid = ancestor_of_kind(member.microgrid, OrgKind.GRID)
    return {
        "community_id": member.community_id,
        "grid_id": grid.pk if grid else None,
        "party_org_id": member.party_org_id,
        "org_path": member.org.path,
    }


def entry_append(balance: Balance, **fields) -> LedgerEntry:
    entry = LedgerEntry.objects.create(**fields)
    Balance.objects.filter(pk=balance.pk).update(total=F("total") + entry.points, entries=F("entries") + 1)
    balance.total += entry.points
    balance.entries += 1
    return entry


def require_aware(value, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        raise UserError(
            "invalid_time", _("%(field_value)s must be an aware datetime"), field=field, field_value=field
        )
    return value


def actor_user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def entry_spend(
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
    return entry_append(
        balance,
        member=member,
        kind=EntryKind.SPEND,
        points=-cost,
        idempotency_key=key,
        source_type="benefit",
        source_id=key.split(":", 1)[1],
        occurred_at=moment,
        occurred_on=local_day(moment),
        recorded_at=moment,
        actor=actor_user(actor),
        reason=reason[:300],
        org_path=member.org.path,
    )
