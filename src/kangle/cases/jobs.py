"""The SLA sweep, run by `kangle worker` (settings.KANGLE_PERIODIC_JOBS).

Three indexed range scans over stored times — ``warn_at``, ``due_at``, ``next_escalation_at``. Each page
of due rows is claimed and handled in one transaction:

1. ``SELECT … WHERE <time> <= now … FOR UPDATE SKIP LOCKED LIMIT n`` — a second worker skips rows the
   first one holds, and PostgreSQL re-checks the condition on rows changed meanwhile;
2. a compare-and-set ``UPDATE … WHERE pk IN (…) AND <time> <= now`` (and, for escalations, the level read);
3. the timeline events, escalation rows (unique per milestone and level), audit events; notices after the
   commit.

So two workers at once warn, breach and escalate each milestone exactly once; a worker killed mid-sweep has
committed whole pages only, and the rows it had not finished still match the scan for the next sweep.
(SQLite has no row locks; its writers are serialised by the database lock, which gives the same result.)
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Case as DbCase
from django.db.models import DateTimeField, Value, When
from django.db.models.functions import Cast

from kangle.accounts.models import RoleAssignment
from kangle.cases import services
from kangle.cases.models import CaseEvent, CaseMilestone, Escalation, EventKind, MilestoneState
from kangle.core.models import AuditEvent
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
    worker = (worker_id or "")[:64]
    result.warned = _drain("warn_at", moment, batch, lambda rows: _warn(rows, moment, worker))
    result.breached = _drain("due_at", moment, batch, lambda rows: _breach(rows, moment, worker))
    result.escalated = _drain(
        "next_escalation_at", moment, batch, lambda rows: _escalate(rows, moment, worker)
    )
    if result.warned or result.breached or result.escalated:
        logger.info("SLA sweep by %s: %s", worker or "-", result.as_dict())
    return result


def due_ids(column: str, moment: dt.datetime, batch: int) -> list[int]:
    """One page of rows whose ``column`` has passed: the range scan the partial indexes serve."""
    return list(
        CaseMilestone.objects.filter(**{f"{column}__lte": moment})
        .order_by(column)
        .values_list("pk", flat=True)[:batch]
    )


def _claim(column: str, moment: dt.datetime, batch: int) -> list[CaseMilestone]:
    ids = (
        CaseMilestone.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(**{f"{column}__lte": moment})
        .order_by(column)
        .values_list("pk", flat=True)[:batch]
    )
    return list(
        CaseMilestone.objects.filter(pk__in=list(ids)).select_related(
            "case__org", "case__category__policy", "case__contractor", "milestone__policy"
        )
    )


def _drain(column: str, moment: dt.datetime, batch: int, handle) -> int:
    """Claim and handle pages until none is due. An escalation due at several levels at once moves one
    level per page, so a row may come back; a page where nothing happened ends the loop."""
    done = 0
    while True:
        with transaction.atomic():
            rows = _claim(column, moment, batch)
            if not rows:
                return done
            handled = handle(rows)
        done += handled
        if not handled:
            return done


def _audit(rows: list[tuple[CaseMilestone, str, dict]], moment: dt.datetime) -> None:
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=None,
                verb=verb,
                object_type="cases.case",
                object_id=str(row.case_id),
                object_repr=str(row.case)[:200],
                org_path=row.case.org.path,
                at=moment,
                details=details,
            )
            for row, verb, details in rows
        ]
    )


def _warn(rows: list[CaseMilestone], moment: dt.datetime, worker: str) -> int:
    ids = [row.pk for row in rows]
    if not CaseMilestone.objects.filter(pk__in=ids, warn_at__lte=moment).update(
        warn_at=None, warned_at=moment
    ):
        return 0
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case=row.case,
                kind=EventKind.WARNED,
                at=moment,
                note=row.milestone.name,
                public=False,
                data={
                    "milestone": row.milestone.code,
                    "deadline": row.deadline.isoformat(),
                    "worker": worker,
                },
            )
            for row in rows
        ]
    )
    desk = _Recipients(rows, (Role.AREA_ADMIN,))
    for row in rows:
        case = row.case
        recipients = list(desk.get(case, Role.AREA_ADMIN))
        if case.contractor_id:
            recipients += desk.contractor_staff(case.contractor)
        services._notify_users(
            recipients,
            f"催办：案件 {case.number}「{row.milestone.name}」将于 {local(row.deadline):%m-%d %H:%M} 到期",
            case.title,
            f"/cases/desk/{case.number}/",
            now=moment,
            sms=False,
        )
    return len(rows)


def _breach(rows: list[CaseMilestone], moment: dt.datetime, worker: str) -> int:
    ids = [row.pk for row in rows]
    updated = CaseMilestone.objects.filter(
        pk__in=ids, due_at__lte=moment, state=MilestoneState.RUNNING
    ).update(due_at=None, warn_at=None, breached_at=moment, state=MilestoneState.BREACHED)
    if not updated:
        return 0
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case=row.case,
                kind=EventKind.BREACHED,
                at=moment,
                note=row.milestone.name,
                public=False,
                data={
                    "milestone": row.milestone.code,
                    "deadline": row.deadline.isoformat(),
                    "worker": worker,
                },
            )
            for row in rows
        ]
    )
    _audit(
        [
            (row, "case.sla_breach", {"milestone": row.milestone.code, "deadline": row.deadline.isoformat()})
            for row in rows
        ],
        moment,
    )
    return len(rows)


def _escalate(rows: list[CaseMilestone], moment: dt.datetime, worker: str) -> int:
    """Move each claimed row one level up its chain. The UPDATE is a compare-and-set on the level read (one
    statement per level present in the page, so a page costs a handful of queries, not one per row)."""
    plans: dict[int, list[tuple[CaseMilestone, dt.datetime | None, str]]] = {}
    for row in rows:
        # The clock's own policy version: a later revision of the category's policy does not reach it.
        policy = row.milestone.policy
        chain = policy.escalation_chain or []
        level = row.escalation_level
        following = (
            services._first_escalation(policy, row.deadline, level + 1) if level + 1 < len(chain) else None
        )
        step = chain[level] if level < len(chain) else {"role": Role.STREET_ADMIN}
        plans.setdefault(level, []).append((row, following, step.get("role", Role.STREET_ADMIN)))
    done: list[tuple[CaseMilestone, int, str]] = []
    for level, planned in plans.items():
        ids = [row.pk for row, _following, _role in planned]
        if all(following is None for _row, following, _role in planned):
            next_times = None  # the end of every chain in this group
        else:
            next_times = DbCase(
                *[
                    When(pk=row.pk, then=Value(following, output_field=DateTimeField()))
                    for row, following, _role in planned
                ],
                output_field=DateTimeField(),
            )
            if connection.vendor == "postgresql":
                # PostgreSQL types a CASE of parameters as text; SQLite keeps Django's datetime format.
                next_times = Cast(next_times, DateTimeField())
        updated = CaseMilestone.objects.filter(
            pk__in=ids, escalation_level=level, next_escalation_at__lte=moment, met_at__isnull=True
        ).update(escalation_level=level + 1, next_escalation_at=next_times)
        if updated != len(ids):  # cannot happen while the rows are claimed; never guess which ones moved
            raise RuntimeError(f"escalation compare-and-set moved {updated} of {len(ids)} claimed rows")
        done += [(row, level + 1, role) for row, _following, role in planned]
    if not done:
        return 0
    Escalation.objects.bulk_create(
        [
            Escalation(case_milestone=row, level=level, role=role, at=moment, worker_id=worker)
            for row, level, role in done
        ]
    )
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case=row.case,
                kind=EventKind.ESCALATED,
                at=moment,
                note=row.milestone.name,
                public=False,
                data={"milestone": row.milestone.code, "level": level, "role": role, "worker": worker},
            )
            for row, level, role in done
        ]
    )
    _audit(
        [
            (row, "case.escalate", {"milestone": row.milestone.code, "level": level, "role": role})
            for row, level, role in done
        ],
        moment,
    )
    recipients = _Recipients(
        [row for row, _level, _role in done], tuple({role for _row, _level, role in done})
    )
    for row, _level, role in done:
        case = row.case
        services._notify_users(
            recipients.get(case, role),
            f"督办：案件 {case.number}「{row.milestone.name}」已超时",
            f"{case.category.name} · {case.title}",
            f"/cases/desk/{case.number}/",
            now=moment,
        )
    return len(done)


class _Recipients:
    """Who holds a role at or above each place of a page: one query per page, not one per row."""

    def __init__(self, rows: list[CaseMilestone], roles: tuple[str, ...]):
        codes = {code for row in rows for code in row.case.org.ancestor_codes()}
        self.by_code: dict[tuple[str, str], list] = {}
        assignments = RoleAssignment.objects.filter(
            is_active=True, user__is_active=True, role__in=roles, org__code__in=codes
        ).select_related("user", "org")
        for assignment in assignments:
            self.by_code.setdefault((assignment.org.code, assignment.role), []).append(assignment.user)
        self.staff: dict[int, list] = {}

    def get(self, case, role: str) -> list:
        users = {}
        for code in case.org.ancestor_codes():
            for user in self.by_code.get((code, role), []):
                users[user.pk] = user
        return list(users.values())

    def contractor_staff(self, contractor) -> list:
        if contractor.pk not in self.staff:
            self.staff[contractor.pk] = list(contractor.users.filter(is_active=True))
        return self.staff[contractor.pk]
