"""The SLA sweep, run by `kangle worker` (settings.KANGLE_PERIODIC_JOBS).

Three indexed range scans over stored times — ``warn_at``, ``due_at``, ``next_escalation_at``. Each page
of due rows is handled set-based in one transaction (the statements are in ``kangle.cases.sweep_sql``):

1. one ``UPDATE … WHERE id IN (SELECT … WHERE <time> <= now ORDER BY <time> LIMIT n FOR UPDATE SKIP
   LOCKED) AND <time> <= now RETURNING …`` claims and changes the page (a second worker skips the rows the
   first one holds; PostgreSQL re-checks the condition on rows changed meanwhile). An escalation needs a
   next time computed on the calendar of the clock's own policy version, so its page is claimed and read
   first (one ``SELECT … FOR UPDATE OF … SKIP LOCKED``) and then moved with one compare-and-set UPDATE on
   the level read;
2. ``INSERT … SELECT`` statements write the page's timeline events, escalation rows (unique per milestone
   and level) and audit rows from the changed rows inside the database — on PostgreSQL in the same
   statement as the UPDATE, reading its ``RETURNING`` rows;
3. for the notices, the page's rows (no personal data, so nothing is decrypted; on PostgreSQL returned by
   the warning's own statement), one query for every recipient of the page's units and contractors, and
   one bulk insert of the notices as outbox rows — in the same transaction, delivered by the outbox job.

So two workers at once warn, breach and escalate each milestone exactly once; a worker killed mid-sweep has
committed whole pages only — each with its events, audit rows and notices — and the rows it had not
finished still match the scan for the next sweep. (SQLite has no row locks; its writers are serialised by
the database lock, which gives the same result.)
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from functools import cached_property

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kangle.cases import clock, sweep_sql
from kangle.cases.models import CaseMilestone, EventKind, MilestoneState, SlaPolicy
from kangle.core.roles import Role
from kangle.core.timeutil import local, resolve_now
from kangle.notify.services import Notice, queue_notices

logger = logging.getLogger("kangle.cases.sla")

BATCH = 1000

WARNING_TITLE = _('Reminder: case %(number)s "%(milestone)s" is due at %(deadline)s')
ESCALATION_TITLE = _('Escalation: case %(number)s "%(milestone)s" is overdue')


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
    result.warned = _drain(sweep.warn_page, "warn_at", moment)
    result.breached = _drain(sweep.breach_page, "due_at", moment)
    result.escalated = _drain(sweep.escalate_page, "next_escalation_at", moment)
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


# How long a sweep waits, in all, for due rows another transaction holds before it leaves them to the next
# sweep: a page's transaction lasts milliseconds, so this is only reached when something holds a clock long.
LOCKED_WAIT = 5.0


def _drain(page, column: str, moment: dt.datetime) -> int:
    """Handle pages, each in its own transaction, until one changes nothing. An escalation due at several
    levels at once moves one level per page, so a row may come back in a later page.

    A page skips the rows another transaction holds — a second worker's page of the same scan, but also a
    worker in another scan (a clock due for its warning, breach and escalation is claimed by all three) or
    a person's change to the case. So an empty page ends the scan only when no due row is left (read without
    locks, on the scan's ``column``); otherwise the sweep waits a moment, a little longer each time, and
    claims again once the holder has committed."""
    done = 0
    waited, pause = 0.0, 0.005
    while True:
        with transaction.atomic():
            handled = page()
        if handled:
            done += handled
            continue
        # SQLite has no row locks (its writers are serialised): an empty page there means nothing is due.
        if not sweep_sql.skips_locked_rows() or not due_ids(column, moment, 1):
            return done
        if waited >= LOCKED_WAIT:
            logger.info("SLA sweep left %s rows held by another transaction to the next sweep", column)
            return done
        time.sleep(pause)
        waited += pause
        pause = min(pause * 2, 0.2)


def _literal(text: str) -> str:
    # Notice bodies are rendered with the notice's parameters: a plain text must keep its own "%" signs.
    return text.replace("%", "%%")


def _params(row: dict) -> dict:
    return {"number": row["case__number"], "milestone": row["milestone__name"]}


class _Sweep:
    """One sweep at one moment: the reference data it reads is loaded once, not once per page."""

    def __init__(self, *, moment: dt.datetime, batch: int, worker: str):
        self.moment = moment
        self.batch = batch
        self.worker = worker

    @cached_property
    def policies(self) -> dict[int, SlaPolicy]:
        return SlaPolicy.objects.in_bulk()

    # --- warn ---------------------------------------------------------------------------------------------
    def warn_page(self) -> int:
        rows = sweep_sql.warn(self.moment, self.batch, kind=EventKind.WARNED, worker=self.worker)
        if not rows:
            return 0
        recipients = _Recipients(rows, (Role.AREA_ADMIN,), contractors=True)
        notices = []
        for row in rows:
            users = recipients.holders(row, Role.AREA_ADMIN) | recipients.contractor_staff(row)
            if not users:
                continue
            params = {**_params(row), "deadline": f"{local(row['deadline']):%m-%d %H:%M}"}
            body = _literal(row["case__title"])
            notices += [
                Notice(
                    recipient_id=user_id,
                    title=WARNING_TITLE,
                    body=body,
                    link=f"/cases/desk/{row['case__number']}/",
                    reference=f"cases.case:{row['case_id']}",
                    params=params,
                )
                for user_id in sorted(users)
            ]
        queue_notices(notices, now=self.moment)
        return len(rows)

    # --- breach -------------------------------------------------------------------------------------------
    def breach_page(self) -> int:
        return sweep_sql.breach(
            self.moment,
            self.batch,
            breached=MilestoneState.BREACHED,
            running=MilestoneState.RUNNING,
            kind=EventKind.BREACHED,
            worker=self.worker,
        )

    # --- escalate -----------------------------------------------------------------------------------------
    def escalate_page(self) -> int:
        """Move each claimed row one level up its chain: claim the page, compute each row's next time on
        its own policy version's calendar, then one compare-and-set UPDATE on the level read."""
        claimed = sweep_sql.claim_escalations(self.moment, self.batch)
        if not claimed:
            return 0
        plan, roles = [], {}
        for row in claimed:
            policy = self.policies[row["milestone__policy_id"]]  # the clock's own policy version
            chain = policy.escalation_chain or []
            level = row["escalation_level"]
            following = None
            if level + 1 < len(chain):
                hours = float(chain[level + 1].get("after_hours", 0))
                following = clock.policy_add(policy, row["deadline"], hours * 3600)
            step = chain[level] if level < len(chain) else {}
            roles[row["pk"]] = step.get("role", Role.STREET_ADMIN)
            plan.append((row["pk"], level, following, roles[row["pk"]]))
        moved = set(sweep_sql.escalate(plan, self.moment, kind=EventKind.ESCALATED, worker=self.worker))
        done = [(row, row["escalation_level"] + 1, roles[row["pk"]]) for row in claimed if row["pk"] in moved]
        if not done:
            return 0
        recipients = _Recipients([row for row, _level, _role in done], tuple({role for *_x, role in done}))
        notices = []
        for row, _level, role in done:
            body = _literal(f"{row['case__category__name']} · {row['case__title']}")
            notices += [
                Notice(
                    recipient_id=user_id,
                    title=ESCALATION_TITLE,
                    body=body,
                    link=f"/cases/desk/{row['case__number']}/",
                    sms=True,
                    reference=f"cases.case:{row['case_id']}",
                    params=_params(row),
                )
                for user_id in sorted(recipients.holders(row, role))
            ]
        queue_notices(notices, now=self.moment)
        return len(done)


class _Recipients:
    """Who holds a role at or above each place of a page, and each contractor's staff: one query per page,
    not one per row. Only user ids: the notices need nothing else."""

    def __init__(self, rows: list[dict], roles: tuple[str, ...], *, contractors: bool = False):
        found = sweep_sql.recipients(
            codes={code for row in rows for code in _codes(row)},
            roles=roles,
            contractors={row["case__contractor_id"] for row in rows if row["case__contractor_id"]}
            if contractors
            else (),
        )
        self.by_key: dict[tuple[str, str], set[int]] = {}
        for key, role, user_id in found:
            self.by_key.setdefault((key, role), set()).add(user_id)

    def holders(self, row: dict, role: str) -> set[int]:
        users: set[int] = set()
        for code in _codes(row):
            users |= self.by_key.get((code, role), set())
        return users

    def contractor_staff(self, row: dict) -> set[int]:
        return self.by_key.get((str(row["case__contractor_id"]), sweep_sql.CONTRACTOR), set())


def _codes(row: dict) -> list[str]:
    return [code for code in row["case__org__path"].split("/") if code]
