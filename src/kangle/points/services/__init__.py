"""Every write to points, one module per lifecycle:

- ``earning``: awards for verified service records and their reversals (the interface activities calls:
  ``award_for_service``, ``reverse_award``);
- ``rules``: the street's versioned points table and caps;
- ``adjustments``: a street admin's manual corrections, with a second admin's approval above a limit;
- ``benefits``: benefits and their slots, and the earlier sign-up a balance earns (``signup_opens_at``);
- ``redemption``: bookings (and their cancellation with a refund) and priority passes;
- ``rankings``: a member's choice to appear in public rankings;
- ``ledger``: the write primitives the others share (the locked balance row, appending an entry).

Reads live in ``kangle.points.selectors``; ``balance_of`` and ``rule_in_force`` are offered here too because
callers outside points use them beside the writes. ``from kangle.points import services`` then
``services.<name>`` reaches every public name below.

Invariants (checked by ``kangle ledger-check``, see ``checks.py``): entries are never updated or deleted;
one entry per idempotency key; an award carries its rule and version, was in force at ``occurred_at``,
``points ≤ base_points = table value``, caps held; a reversal negates exactly one award of the same member;
spends never exceed the balance at the time; the cached balance equals the sum.
"""

from kangle.points.selectors import balance_of, rule_in_force
from kangle.points.services.adjustments import (
    MAX_ADJUSTMENT,
    access_request,
    adjustment_decide,
    adjustment_limit_set,
    approval_above,
    points_adjust,
    points_adjust_request,
)
from kangle.points.services.benefits import benefit_create, signup_opens_at, slot_create
from kangle.points.services.earning import award_for_service, award_key, reverse_award
from kangle.points.services.ledger import MAX_MINUTES, member_dimensions, street_of
from kangle.points.services.rankings import ranking_visibility_set
from kangle.points.services.redemption import booking_cancel, booking_create, pass_issue, pass_use
from kangle.points.services.rules import rule_create, rule_update

__all__ = [
    "MAX_ADJUSTMENT",
    "MAX_MINUTES",
    "access_request",
    "adjustment_decide",
    "adjustment_limit_set",
    "approval_above",
    "award_for_service",
    "award_key",
    "balance_of",
    "benefit_create",
    "booking_cancel",
    "booking_create",
    "member_dimensions",
    "pass_issue",
    "pass_use",
    "points_adjust",
    "points_adjust_request",
    "ranking_visibility_set",
    "reverse_award",
    "rule_create",
    "rule_in_force",
    "rule_update",
    "signup_opens_at",
    "slot_create",
    "street_of",
]
