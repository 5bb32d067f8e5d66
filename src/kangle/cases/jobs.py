"""The SLA sweep, run by `kangle worker` (settings.KANGLE_PERIODIC_JOBS).

Three indexed range scans over stored times — ``warn_at``, ``due_at``, ``next_escalation_at``. Each page
of due rows is handled set-based in one transaction:

1. one ``UPDATE … WHERE id IN (SELECT … WHERE <time> <= now ORDER BY <time> LIMIT n FOR UPDATE SKIP
   LOCKED) AND <time> <= now RETURNING id`` claims and changes the page (a second worker skips the rows the
   first one holds; PostgreSQL re-checks the condition on rows changed meanwhile). An escalation needs a
   next time computed on the policy's calendar, so it claims first and then moves the page with one
   compare-and-set ``UPDATE … FROM (VALUES …)`` on the level read;
2. one query reads what the page's events and notices need (no personal data, so nothing is decrypted);
3. bulk inserts of the timeline events, escalation rows (unique per milestone and level), audit events and
   the notices — outbox rows written in the same transaction, delivered by the outbox job.

So two workers at once warn, breach and escalate each milestone exactly once; a worker killed mid-sweep has
committed whole pages only — each with its notices — and the rows it had not finished still match the scan
for the next sweep. (SQLite has no row locks; its writers are serialised by the database lock, which gives
the same result.)
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import cached_property

from django.db import connection, transaction

from kangle.accounts.models import RoleAssignment
from kangle.cases import services
from kangle.cases.models import (
    CaseEvent,
    CaseMilestone,
    Contractor,
    Escalation,
    EventKind,
    Milestone,
    MilestoneState,
    SlaPolicy,
)
from kangle.core.models import AuditEvent
from kangle.core.roles import Role
from kangle.core.timeutil import local, resolve_now
from kangle.notify.services import Notice, queue_notices

logger = logging.getLogger("kangle.cases.sla")

BATCH = 500
TABLE = CaseMilestone._meta.db_table


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
    sweep = _Sweep(moment=moment, batch=batch, worker=(worker_id or "")[:64])
    result.warned = _drain(sweep.warn_page)
    result.breached = _drain(sweep.breach_page)
    result.escalated = _drain(sweep.escalate_page)
    if result.warned or result.breached or result.escalated:
        logger.info("SLA sweep by %s: %s", sweep.worker or "-", result.as_dict())
    return result


def due_ids(column: str, moment: dt.datetime, batch: int) -> list[int]:
    """One page of rows whose ``column`` has passed: the range scan the partial indexes serve."""
    return list(
        CaseMilestone.objects.filter(**{f"{column}__lte": moment})
        .order_by(column)
        .values_list("pk", flat=True)[:batch]
    )


def _drain(page) -> int:
    """Handle pages, each in its own transaction, until one changes nothing. An escalation due at several
    levels at once moves one level per page, so a row may come back in a later page."""
    done = 0
    while True:
        with transaction.atomic():
            handled = page()
        if not handled:
            return done
        done += handled


def _lock_clause() -> str:
    return " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""


def _timestamp(value: dt.datetime | None):
    return connection.ops.adapt_datetimefield_value(value)


def _claim_sql(column: str) -> str:
    """The page of due rows, locked for this transaction (skipping rows another worker holds)."""
    return (
        f"SELECT id FROM {TABLE} WHERE {column} <= %s AND {column} IS NOT NULL "  # noqa: S608 - fixed names
        f"ORDER BY {column} LIMIT %s{_lock_clause()}"
    )


def _execute(sql: str, params: list) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


# The columns a page's events, audit rows and notices need: no personal data, so nothing is decrypted.
PAGE_COLUMNS = (
    "pk",
    "case_id",
    "milestone_id",
    "deadline",
    "escalation_level",
    "case__number",
    "case__title",
    "case__org__path",
    "case__contractor_id",
    "case__category__name",
    "milestone__policy_id",
)


class _Sweep:
    """One sweep at one moment: the reference data it reads is loaded once, not once per page."""

    def __init__(self, *, moment: dt.datetime, batch: int, worker: str):
        self.moment = moment
        self.batch = batch
        self.worker = worker

    @cached_property
    def milestones(self) -> dict[int, dict]:
        return {row["id"]: row for row in Milestone.objects.values("id", "code", "name")}

    @cached_property
    def policies(self) -> dict[int, SlaPolicy]:
        return SlaPolicy.objects.in_bulk()

    def _page(self, ids: list[int]) -> list[dict]:
        if not ids:
            return []
        rows = list(CaseMilestone.objects.filter(pk__in=ids).values(*PAGE_COLUMNS))
        for row in rows:
            row["milestone"] = self.milestones[row["milestone_id"]]
        return rows

    def _event(self, row: dict, kind: str, data: dict) -> CaseEvent:
        return CaseEvent(
            case_id=row["case_id"],
            kind=kind,
            at=self.moment,
            note=row["milestone"]["name"],
            public=False,
            data={"milestone": row["milestone"]["code"], **data, "worker": self.worker},
        )

    def _audit(self, row: dict, verb: str, details: dict) -> AuditEvent:
        return AuditEvent(
            actor=None,
            verb=verb,
            object_type="cases.case",
            object_id=str(row["case_id"]),
            object_repr=f"{row['case__number']} {row['case__title']}"[:200],
            org_path=row["case__org__path"],
            at=self.moment,
            details={"milestone": row["milestone"]["code"], **details},
        )

    # --- warn ---------------------------------------------------------------------------------------------
    def warn_page(self) -> int:
        moment = _timestamp(self.moment)
        ids = _execute(
            f"UPDATE {TABLE} SET warn_at = NULL, warned_at = %s "  # noqa: S608 - fixed names
            f"WHERE id IN ({_claim_sql('warn_at')}) AND warn_at <= %s RETURNING id",
            [moment, moment, self.batch, moment],
        )
        rows = self._page(ids)
        if not rows:
            return 0
        CaseEvent.objects.bulk_create(
            [self._event(row, EventKind.WARNED, {"deadline": row["deadline"].isoformat()}) for row in rows]
        )
        recipients = _Recipients(rows, (Role.AREA_ADMIN,))
        notices = []
        for row in rows:
            users = recipients.holders(row, Role.AREA_ADMIN) | recipients.contractor_staff(row)
            title = (
                f"催办：案件 {row['case__number']}「{row['milestone']['name']}」"
                f"将于 {local(row['deadline']):%m-%d %H:%M} 到期"
            )
            notices += [
                Notice(
                    recipient_id=user_id,
                    title=title,
                    body=row["case__title"],
                    link=f"/cases/desk/{row['case__number']}/",
                    reference=f"cases.case:{row['case_id']}",
                )
                for user_id in sorted(users)
            ]
        queue_notices(notices, now=self.moment)
        return len(rows)

    # --- breach -------------------------------------------------------------------------------------------
    def breach_page(self) -> int:
        moment = _timestamp(self.moment)
        ids = _execute(
            f"UPDATE {TABLE} SET due_at = NULL, warn_at = NULL, breached_at = %s, state = %s "  # noqa: S608
            f"WHERE id IN ({_claim_sql('due_at')}) AND due_at <= %s AND state = %s RETURNING id",
            [moment, MilestoneState.BREACHED.value, moment, self.batch, moment, MilestoneState.RUNNING.value],
        )
        rows = self._page(ids)
        if not rows:
            return 0
        CaseEvent.objects.bulk_create(
            [self._event(row, EventKind.BREACHED, {"deadline": row["deadline"].isoformat()}) for row in rows]
        )
        AuditEvent.objects.bulk_create(
            [self._audit(row, "case.sla_breach", {"deadline": row["deadline"].isoformat()}) for row in rows]
        )
        return len(rows)

    # --- escalate -----------------------------------------------------------------------------------------
    def escalate_page(self) -> int:
        """Move each claimed row one level up its chain: claim the page, compute each row's next time on
        its policy's calendar, then one compare-and-set UPDATE on the level read."""
        moment = _timestamp(self.moment)
        claimed = self._page(_execute(_claim_sql("next_escalation_at"), [moment, self.batch]))
        if not claimed:
            return 0
        plan: dict[int, tuple[dict, dt.datetime | None, str]] = {}
        for row in claimed:
            policy = self.policies[row["milestone__policy_id"]]  # the clock's own policy version
            chain = policy.escalation_chain or []
            level = row["escalation_level"]
            following = (
                services.milestone_escalation_at(policy, row["deadline"], level + 1)
                if level + 1 < len(chain)
                else None
            )
            step = chain[level] if level < len(chain) else {"role": Role.STREET_ADMIN}
            plan[row["pk"]] = (row, following, step.get("role", Role.STREET_ADMIN))
        moved = set(self._move_levels(plan, moment))
        done = [
            (row, row["escalation_level"] + 1, role) for pk, (row, _f, role) in plan.items() if pk in moved
        ]
        if not done:
            return 0
        Escalation.objects.bulk_create(
            [
                Escalation(
                    case_milestone_id=row["pk"], level=level, role=role, at=self.moment, worker_id=self.worker
                )
                for row, level, role in done
            ]
        )
        CaseEvent.objects.bulk_create(
            [
                self._event(row, EventKind.ESCALATED, {"level": level, "role": role})
                for row, level, role in done
            ]
        )
        AuditEvent.objects.bulk_create(
            [self._audit(row, "case.escalate", {"level": level, "role": role}) for row, level, role in done]
        )
        recipients = _Recipients([row for row, _level, _role in done], tuple({role for *_x, role in done}))
        queue_notices(
            [
                Notice(
                    recipient_id=user_id,
                    title=f"督办：案件 {row['case__number']}「{row['milestone']['name']}」已超时",
                    body=f"{row['case__category__name']} · {row['case__title']}",
                    link=f"/cases/desk/{row['case__number']}/",
                    sms=True,
                    reference=f"cases.case:{row['case_id']}",
                )
                for row, _level, role in done
                for user_id in sorted(recipients.holders(row, role))
            ],
            now=self.moment,
        )
        return len(done)

    def _move_levels(self, plan: dict[int, tuple[dict, dt.datetime | None, str]], moment) -> list[int]:
        """One UPDATE for the whole page; only rows still at the level read (and not met) move."""
        postgres = connection.vendor == "postgresql"
        next_time = "CAST(%s AS timestamp with time zone)" if postgres else "%s"
        values = ", ".join(f"(CAST(%s AS bigint), CAST(%s AS integer), {next_time})" for _ in plan)
        params: list = []
        for pk, (row, following, _role) in plan.items():
            params += [pk, row["escalation_level"], _timestamp(following)]
        target = f"{TABLE}.id" if not postgres else "cm.id"
        alias = f"{TABLE} AS cm" if postgres else TABLE
        prefix = "cm." if postgres else f"{TABLE}."
        return _execute(
            f"WITH page(id, level, next_at) AS (VALUES {values}) "  # noqa: S608 - fixed names
            f"UPDATE {alias} SET escalation_level = page.level + 1, next_escalation_at = page.next_at "
            f"FROM page WHERE {target} = page.id AND {prefix}escalation_level = page.level "
            f"AND {prefix}next_escalation_at <= %s AND {prefix}met_at IS NULL RETURNING {target}",
            [*params, moment],
        )


class _Recipients:
    """Who holds a role at or above each place of a page, and each contractor's staff: one query each per
    page, not one per row. Only user ids: the notices need nothing else."""

    def __init__(self, rows: list[dict], roles: tuple[str, ...]):
        codes = {code for row in rows for code in _codes(row)}
        self.by_code: dict[tuple[str, str], set[int]] = {}
        assignments = RoleAssignment.objects.filter(
            is_active=True, user__is_active=True, role__in=roles, org__code__in=codes
        ).values_list("org__code", "role", "user_id")
        for code, role, user_id in assignments:
            self.by_code.setdefault((code, role), set()).add(user_id)
        contractors = {row["case__contractor_id"] for row in rows if row["case__contractor_id"]}
        self.staff: dict[int, set[int]] = {}
        if contractors:
            links = Contractor.users.through.objects.filter(
                contractor_id__in=contractors, user__is_active=True
            ).values_list("contractor_id", "user_id")
            for contractor_id, user_id in links:
                self.staff.setdefault(contractor_id, set()).add(user_id)

    def holders(self, row: dict, role: str) -> set[int]:
        users: set[int] = set()
        for code in _codes(row):
            users |= self.by_code.get((code, role), set())
        return users

    def contractor_staff(self, row: dict) -> set[int]:
        return self.staff.get(row["case__contractor_id"], set())


def _codes(row: dict) -> list[str]:
    return [code for code in row["case__org__path"].split("/") if code]
