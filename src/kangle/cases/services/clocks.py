"""The stored SLA clocks of a case: due, warning and first escalation times, for the report and for rework."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from kangle.cases import clock
from kangle.cases.models import (
    Case,
    CaseMilestone,
)


def milestone_warn_at(policy, started: dt.datetime, hours: int) -> dt.datetime:
    return clock.policy_add(policy, started, float(Decimal(hours * 3600) * Decimal(policy.warn_ratio)))


def milestone_escalation_at(policy, deadline: dt.datetime, level: int = 0) -> dt.datetime | None:
    chain = policy.escalation_chain or []
    if level >= len(chain):
        return None
    return clock.policy_add(policy, deadline, float(chain[level].get("after_hours", 0)) * 3600)


def clocks_start(case: Case, *, now: dt.datetime) -> list[CaseMilestone]:
    """Store every milestone's due time, warning time and first escalation time: the clock starts now."""
    milestones = [row for row in case.category.policy.milestones.all() if not row.on_rework]
    return _clocks_create(case, milestones, round_=0, now=now)


def clocks_start_rework(case: Case, *, round_: int, now: dt.datetime) -> list[CaseMilestone]:
    """The clocks of the ``round_``-th reopening for rework: the policy's rework milestones, from now.

    They are ordinary stored clocks (``due_at`` / ``warn_at`` / ``next_escalation_at``), so the SLA sweep
    warns and escalates them like the report's clocks without knowing what rework is."""
    milestones = [row for row in case.category.policy.milestones.all() if row.on_rework]
    return _clocks_create(case, milestones, round_=round_, now=now)


def _clocks_create(case: Case, milestones, *, round_: int, now: dt.datetime) -> list[CaseMilestone]:
    policy = case.category.policy
    rows = []
    for milestone in milestones:
        deadline = clock.policy_add(policy, now, milestone.hours * 3600)
        rows.append(
            CaseMilestone(
                case=case,
                org_id=case.org_id,
                milestone=milestone,
                round=round_,
                started_at=now,
                deadline=deadline,
                due_at=deadline,
                warn_at=milestone_warn_at(policy, now, milestone.hours),
                next_escalation_at=milestone_escalation_at(policy, deadline),
            )
        )
    return CaseMilestone.objects.bulk_create(rows)
