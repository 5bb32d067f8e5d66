"""The SLA sweep, run by `kangle worker` (settings.KANGLE_PERIODIC_JOBS).

Three indexed range scans over stored times — ``warn_at``, ``due_at``, ``next_escalation_at`` — each
followed by a compare-and-set UPDATE per row inside its own transaction. Two workers reading the same row
both try the UPDATE; the database lets one through and the other's WHERE no longer matches (0 rows), so
each warning, breach and escalation happens exactly once. A worker killed mid-sweep has committed whole
rows only; the rows it had not reached still match the scan and the next sweep takes them.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction

from kangle.cases import services
from kangle.cases.models import CaseEvent, CaseMilestone, Escalation, EventKind, MilestoneState
from kangle.core import audit
from kangle.core.roles import Role
from kangle.core.timeutil import local, resolve_now

logger = logging.getLogger("kangle.cases.sla")

BATCH = 500


@dataclass
class SweepResult:
    warned: int = 0
    breached: int = 0
    escalated: int = 0

    def as_dict(self) -> dict:
        return {"warned": self.warned, "breached": self.breached, "escalated": self.escalated}


def sla_sweep(*, worker_id: str = "", now: dt.datetime | None = None, batch: int = BATCH, **_) -> SweepResult:
    moment = resolve_now(now)
    result = SweepResult()
    result.warned = _drain("warn_at", moment, batch, lambda pk: _warn(pk, moment, worker_id))
    result.breached = _drain("due_at", moment, batch, lambda pk: _breach(pk, moment, worker_id))
    result.escalated = _drain(
        "next_escalation_at", moment, batch, lambda pk: _escalate(pk, moment, worker_id)
    )
    if result.warned or result.breached or result.escalated:
        logger.info("SLA sweep by %s: %s", worker_id or "-", result.as_dict())
    return result


def due_ids(column: str, moment: dt.datetime, batch: int) -> list[int]:
    """One page of rows whose ``column`` has passed: the range scan the partial indexes serve."""
    return list(
        CaseMilestone.objects.filter(**{f"{column}__lte": moment})
        .order_by(column, "pk")
        .values_list("pk", flat=True)[:batch]
    )


def _drain(column: str, moment: dt.datetime, batch: int, handle) -> int:
    """Handle due rows page by page until none is left. A row may be handled again (an escalation due at
    several levels at once moves one level per pass); a row where nothing happened is not retried."""
    done = 0
    stuck: set[int] = set()
    while True:
        ids = [pk for pk in due_ids(column, moment, batch + len(stuck)) if pk not in stuck]
        if not ids:
            return done
        for pk in ids:
            if handle(pk):
                done += 1
            else:
                stuck.add(pk)


def _load(pk: int) -> CaseMilestone:
    return CaseMilestone.objects.select_related("case__org", "case__category__policy", "milestone").get(pk=pk)


@transaction.atomic
def _warn(pk: int, moment: dt.datetime, worker_id: str) -> int:
    if not CaseMilestone.objects.filter(pk=pk, warn_at__lte=moment).update(warn_at=None, warned_at=moment):
        return 0  # another worker did it, or the milestone was met or paused meanwhile
    row = _load(pk)
    case = row.case
    CaseEvent.objects.create(
        case=case,
        kind=EventKind.WARNED,
        at=moment,
        note=row.milestone.name,
        public=False,
        data={"milestone": row.milestone.code, "deadline": row.deadline.isoformat(), "worker": worker_id},
    )
    recipients = list(services._desk_users(case, roles=(Role.AREA_ADMIN,)))
    if case.contractor_id:
        recipients += list(case.contractor.users.filter(is_active=True))
    services._notify_users(
        recipients,
        f"催办：案件 {case.number}「{row.milestone.name}」将于 {local(row.deadline):%m-%d %H:%M} 到期",
        case.title,
        f"/cases/desk/{case.number}/",
        now=moment,
        sms=False,
    )
    return 1


@transaction.atomic
def _breach(pk: int, moment: dt.datetime, worker_id: str) -> int:
    updated = CaseMilestone.objects.filter(pk=pk, due_at__lte=moment, state=MilestoneState.RUNNING).update(
        due_at=None, warn_at=None, breached_at=moment, state=MilestoneState.BREACHED
    )
    if not updated:
        return 0
    row = _load(pk)
    CaseEvent.objects.create(
        case=row.case,
        kind=EventKind.BREACHED,
        at=moment,
        note=row.milestone.name,
        public=False,
        data={"milestone": row.milestone.code, "deadline": row.deadline.isoformat(), "worker": worker_id},
    )
    audit.record(
        actor=None,
        verb="case.sla_breach",
        obj=row.case,
        details={"milestone": row.milestone.code, "deadline": row.deadline.isoformat()},
        now=moment,
    )
    return 1


@transaction.atomic
def _escalate(pk: int, moment: dt.datetime, worker_id: str) -> int:
    row = _load(pk)
    if row.next_escalation_at is None or row.next_escalation_at > moment:
        return 0
    policy = row.case.category.policy
    chain = policy.escalation_chain or []
    level = row.escalation_level
    following = (
        services._first_escalation(policy, row.deadline, level + 1) if level + 1 < len(chain) else None
    )
    # Compare-and-set on the level read above: only one worker moves it from ``level`` to ``level + 1``.
    updated = CaseMilestone.objects.filter(
        pk=pk, escalation_level=level, next_escalation_at__lte=moment, met_at__isnull=True
    ).update(escalation_level=level + 1, next_escalation_at=following)
    if not updated:
        return 0
    step = chain[level] if level < len(chain) else {"role": Role.STREET_ADMIN}
    role = step.get("role", Role.STREET_ADMIN)
    Escalation.objects.create(
        case_milestone=row, level=level + 1, role=role, at=moment, worker_id=worker_id[:64]
    )
    case = row.case
    CaseEvent.objects.create(
        case=case,
        kind=EventKind.ESCALATED,
        at=moment,
        note=row.milestone.name,
        public=False,
        data={"milestone": row.milestone.code, "level": level + 1, "role": role, "worker": worker_id},
    )
    audit.record(
        actor=None,
        verb="case.escalate",
        obj=case,
        details={"milestone": row.milestone.code, "level": level + 1, "role": role},
        now=moment,
    )
    services._notify_users(
        services.escalation_recipients(case, role),
        f"督办：案件 {case.number}「{row.milestone.name}」已超时",
        f"{case.category.name} · {case.title}",
        f"/cases/desk/{case.number}/",
        now=moment,
    )
    return 1
