"""A member's choice to appear in public rankings (or not)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.http import Http404

from kangle.core import audit
from kangle.core.timeutil import resolve_now
from kangle.members.models import Member
from kangle.points import permissions
from kangle.points.models import (
    Balance,
)
from kangle.points.services.ledger import (
    balance_lock,
)


def ranking_visibility_set(*, actor, member: Member, hidden: bool, now: dt.datetime | None = None) -> Balance:
    """A member opts out of (or back into) public rankings; only the member themself."""
    moment = resolve_now(now)
    if not permissions.owns(actor, member):
        raise Http404
    with transaction.atomic():
        balance = balance_lock(member)
        Balance.objects.filter(pk=balance.pk).update(hide_from_rankings=bool(hidden))
        balance.hide_from_rankings = bool(hidden)
        audit.record(
            actor=actor, verb="ranking.visibility", obj=member, now=moment, details={"hidden": hidden}
        )
    return balance
