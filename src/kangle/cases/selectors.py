"""Reads of cases shared by pages, the API, Open311 and the figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from kangle.cases.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseMilestone,
    CaseStatus,
    EventKind,
    ExtensionRequest,
    ExtensionStatus,
    MilestoneState,
)
from kangle.core.timeutil import humanise_duration
from kangle.orgs.scope import scope_queryset


@dataclass
class ClockView:
    """One milestone's clock as a page shows it."""

    name: str
    code: str
    deadline: dt.datetime
    state: str
    colour: str  # ok | warn | bad | paused | done | late | off
    remaining: str
    met_at: dt.datetime | None


def clock_views(case: Case, now: dt.datetime) -> list[ClockView]:
    views = []
    for row in case.milestones.all():  # prefetched in order
        remaining = ""
        if row.state == MilestoneState.RUNNING:
            if now >= row.deadline:
                colour = "bad"
            elif row.warned_at is not None or (row.warn_at is not None and now >= row.warn_at):
                colour = "warn"
            else:
                colour = "ok"
            remaining = humanise_duration(row.deadline - now)
        elif row.state == MilestoneState.BREACHED:
            colour, remaining = "bad", humanise_duration(now - row.deadline)
        elif row.state == MilestoneState.PAUSED:
            colour = "paused"
        elif row.state == MilestoneState.MET:
            colour = "done"
        elif row.state == MilestoneState.MET_LATE:
            colour = "late"
        else:
            colour = "off"
        views.append(
            ClockView(
                row.milestone.name, row.milestone.code, row.deadline, row.state, colour, remaining, row.met_at
            )
        )
    return views


COLOUR_ORDER = {"bad": 0, "warn": 1, "paused": 2, "ok": 3, "late": 4, "done": 5, "off": 6}


def worst_clock(case: Case, now: dt.datetime) -> ClockView | None:
    views = [view for view in clock_views(case, now) if view.colour in ("bad", "warn", "ok", "paused")]
    if not views:
        return None
    return min(views, key=lambda view: (COLOUR_ORDER[view.colour], view.deadline))


def with_clocks(queryset: QuerySet[Case]) -> QuerySet[Case]:
    return queryset.select_related("category", "org", "contractor").prefetch_related(
        Prefetch(
            "milestones",
            queryset=CaseMilestone.objects.select_related("milestone").order_by("milestone__order"),
        )
    )


def overdue_q(now: dt.datetime) -> Q:
    late = CaseMilestone.objects.filter(case=OuterRef("pk")).filter(
        Q(state=MilestoneState.BREACHED) | Q(state=MilestoneState.RUNNING, deadline__lte=now)
    )
    return Q(Exists(late), status__in=OPEN_STATUSES)


def warning_q(now: dt.datetime) -> Q:
    soon = CaseMilestone.objects.filter(
        case=OuterRef("pk"), state=MilestoneState.RUNNING, deadline__gt=now
    ).filter(Q(warned_at__isnull=False) | Q(warn_at__lte=now))
    return Q(Exists(soon), status__in=OPEN_STATUSES) & ~overdue_q(now)


def staff_cases(actor) -> QuerySet[Case]:
    return scope_queryset(actor, Case.objects.all())


def filter_cases(queryset: QuerySet[Case], params, now: dt.datetime) -> QuerySet[Case]:
    status = params.get("status") or ""
    if status == "open":
        queryset = queryset.filter(status__in=OPEN_STATUSES)
    elif status:
        queryset = queryset.filter(status=status)
    if params.get("category"):
        queryset = queryset.filter(category__code=params["category"])
    if params.get("contractor"):
        queryset = (
            queryset.filter(contractor_id=params["contractor"])
            if str(params["contractor"]).isdigit()
            else queryset
        )
    if params.get("org"):
        from kangle.orgs.models import OrgUnit
        from kangle.orgs.selectors import subtree_q

        unit = OrgUnit.objects.filter(code=params["org"]).only("path").first()
        queryset = queryset.filter(subtree_q(unit.path, "org__path")) if unit else queryset.none()
    sla = params.get("sla") or ""
    if sla == "overdue":
        queryset = queryset.filter(overdue_q(now))
    elif sla == "warning":
        queryset = queryset.filter(warning_q(now))
    stage = params.get("stage") or ""
    if stage in STAGES:
        queryset = queryset.filter(STAGES[stage]())
    if params.get("q"):
        queryset = queryset.filter(number__icontains=str(params["q"]).strip()[:20])
    return queryset


def _returned_q() -> Q:
    """Back at the desk after a contractor's 退单, waiting to be dispatched again."""
    handed_back = CaseEvent.objects.filter(case=OuterRef("pk"), kind=EventKind.RETURNED)
    return Q(Exists(handed_back), status=CaseStatus.ACCEPTED)


def _dispatch_q() -> Q:
    """New cases to accept, and accepted ones still waiting for a contractor (returned ones excepted)."""
    return Q(status__in=(CaseStatus.REPORTED, CaseStatus.ACCEPTED)) & ~_returned_q()


def _extension_q() -> Q:
    pending = ExtensionRequest.objects.filter(
        case_milestone__case=OuterRef("pk"), status=ExtensionStatus.PENDING
    )
    return Q(Exists(pending))


# The desk queue's ``stage`` filter: the to-do home links each of its lines to one of these.
STAGES = {"returned": _returned_q, "dispatch": _dispatch_q, "extension": _extension_q}


def timeline(case: Case, *, public_only: bool = False) -> QuerySet[CaseEvent]:
    events = case.events.select_related("actor").prefetch_related("photos").order_by("at", "id")
    return events.filter(public=True) if public_only else events


def contractor_cases(actor) -> QuerySet[Case]:
    from kangle.cases.permissions import contractor_ids

    return Case.objects.filter(contractor_id__in=contractor_ids(actor))
