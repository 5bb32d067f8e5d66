"""Every change to the drill register. Each service checks scope (404 outside) and role (403 inside),
validates, writes, and records an audit event, inside one transaction: nothing half-written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.http import Http404
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from kangle.core import audit, cleaners
from kangle.core.errors import NotAllowed, UserError
from kangle.core.timeutil import resolve_now
from kangle.drills import permissions
from kangle.drills.models import (
    Assignment,
    CareHome,
    ContestResult,
    Department,
    Drill,
    DrillFinding,
    DrillPlan,
    FollowUp,
    Mobility,
    Observer,
    PlanTeam,
    ResidentGroup,
    TeamKind,
)
from kangle.orgs.models import Venue, VenueKind

# The timings in their only possible order: (field, name of the moment).
TIMINGS = [
    ("alarm_at", _("alarm")),
    ("first_response_at", _("first response")),
    ("last_out_at", _("last resident out")),
    ("roll_call_at", _("roll call done")),
]


def _keep(actor, path: str) -> None:
    if not permissions.can_view(actor, path):
        raise Http404
    if not permissions.can_keep(actor, path):
        raise NotAllowed(_("Only street, area and community staff keep the drill register"))


def _numbered(label, index: int):
    """A row's label ("Observer 2"), rendered in the reader's language when the message is."""
    return lazy(lambda: str(label) % {"index": index}, str)()


# --- care homes -------------------------------------------------------------------------------------------
@transaction.atomic
def care_home_save(
    *,
    actor,
    venue: Venue,
    walks: int,
    needs_help: int,
    wheelchair: int,
    stretcher: int,
    now: dt.datetime | None = None,
) -> CareHome:
    """Register a care-home venue in the drill register, or update its residents' mobility counts."""
    moment = resolve_now(now)
    _keep(actor, venue.org.path)
    if venue.kind != VenueKind.CARE_HOME:
        raise UserError("not_a_care_home", _("This venue is not an elderly-care home"), field="venue")
    counts = {
        "walks": cleaners.whole_number(
            walks, field="walks", label=_("Residents who walk"), low=0, high=10000
        ),
        "needs_help": cleaners.whole_number(
            needs_help, field="needs_help", label=_("Residents who need help"), low=0, high=10000
        ),
        "wheelchair": cleaners.whole_number(
            wheelchair, field="wheelchair", label=_("Residents in wheelchairs"), low=0, high=10000
        ),
        "stretcher": cleaners.whole_number(
            stretcher, field="stretcher", label=_("Residents on stretchers"), low=0, high=10000
        ),
    }
    home, created = CareHome.objects.update_or_create(
        venue=venue, defaults={**counts, "org_path": venue.org.path, "updated_at": moment}
    )
    audit.record(
        actor=actor,
        verb="care_home.create" if created else "care_home.update",
        obj=home,
        org_path=home.org_path,
        details=counts,
        now=moment,
    )
    return home


@transaction.atomic
def resident_group_create(
    *, actor, home: CareHome, name: str, mobility: str, count: int, now: dt.datetime | None = None
) -> ResidentGroup:
    moment = resolve_now(now)
    _keep(actor, home.org_path)
    name = cleaners.text(name, field="name", label=_("Group name"), max_length=100)
    if mobility not in Mobility.values:
        raise UserError("invalid_mobility", _("Unknown mobility"), field="mobility")
    count = cleaners.whole_number(count, field="count", label=_("Number of residents"), low=1, high=10000)
    group = ResidentGroup.objects.create(home=home, name=name, mobility=mobility, count=count)
    audit.record(actor=actor, verb="resident_group.create", obj=group, org_path=home.org_path, now=moment)
    return group


# --- plans ------------------------------------------------------------------------------------------------
@transaction.atomic
def plan_create(
    *,
    actor,
    home: CareHome,
    title: str,
    scenario: str,
    teams: Sequence[tuple[str, str, str]],
    now: dt.datetime | None = None,
) -> DrillPlan:
    """A plan with its teams: (kind, leader, members) each; the communications team and the micro fire
    station are required (someone calls the fire service, someone fights the fire first)."""
    moment = resolve_now(now)
    _keep(actor, home.org_path)
    title = cleaners.text(title, field="title", label=_("Plan title"), max_length=100)
    scenario = cleaners.text(scenario, field="scenario", label=_("Drill scenario"), max_length=300)
    rows = []
    for index, (kind, leader, members) in enumerate(teams, start=1):
        if kind not in TeamKind.values:
            raise UserError("invalid_team", _("Team %(index)s: unknown kind"), field="teams", index=index)
        leader = cleaners.text(
            leader, field="teams", label=_numbered(_("Team %(index)s: leader"), index), max_length=50
        )
        members = cleaners.text(
            members,
            field="teams",
            label=_numbered(_("Team %(index)s: members"), index),
            max_length=300,
            required=False,
        )
        rows.append((kind, leader, members))
    present = {kind for kind, _leader, _members in rows}
    missing = [
        TeamKind(kind).label for kind in (TeamKind.COMMS, TeamKind.MICRO_STATION) if kind not in present
    ]
    if missing:
        raise UserError(
            "teams_missing", _("A plan needs a communications team and a micro fire station"), field="teams"
        )
    plan = DrillPlan.objects.create(
        home=home, title=title, scenario=scenario, created_by=actor, created_at=moment
    )
    PlanTeam.objects.bulk_create(
        [PlanTeam(plan=plan, kind=kind, leader=leader, members=members) for kind, leader, members in rows]
    )
    audit.record(
        actor=actor,
        verb="drill_plan.create",
        obj=plan,
        org_path=home.org_path,
        details={"teams": len(rows)},
        now=moment,
    )
    return plan


@transaction.atomic
def assignment_add(
    *,
    actor,
    plan: DrillPlan,
    team: PlanTeam,
    person: str,
    group: ResidentGroup,
    route: str,
    now: dt.datetime | None = None,
) -> Assignment:
    """Who moves whom by which route. The residents must live in the plan's home; the person must be in
    one of the plan's teams."""
    moment = resolve_now(now)
    home = plan.home
    _keep(actor, home.org_path)
    if team.plan_id != plan.pk:
        raise UserError("team_not_in_plan", _("The team is not part of this plan"), field="team")
    if group.home_id != home.pk:
        raise UserError(
            "group_not_in_home",
            _("The resident group '%(name)s' does not live in '%(name2)s'"),
            field="group",
            name=group.name,
            name2=home.venue.name,
        )
    person = cleaners.text(person, field="person", label=_("Who moves them"), max_length=50)
    route = cleaners.text(route, field="route", label=_("Evacuation route"), max_length=200)
    assignment = Assignment.objects.create(plan=plan, team=team, person=person, group=group, route=route)
    audit.record(
        actor=actor,
        verb="assignment.add",
        obj=assignment,
        org_path=home.org_path,
        details={"group": group.pk, "team": team.pk},
        now=moment,
    )
    return assignment


# --- drills -----------------------------------------------------------------------------------------------
@transaction.atomic
def drill_record(
    *,
    actor,
    plan: DrillPlan,
    held_on: dt.date,
    scenario: str = "",
    observers: Sequence[tuple[str, str]] = (),
    now: dt.datetime | None = None,
) -> Drill:
    moment = resolve_now(now)
    home = plan.home
    _keep(actor, home.org_path)
    if not isinstance(held_on, dt.date):
        raise UserError("blank_held_on", _("The drill date is required"), field="held_on")
    scenario = cleaners.text(
        scenario or plan.scenario, field="scenario", label=_("Drill scenario"), max_length=300
    )
    rows = []
    for index, (department, name) in enumerate(observers, start=1):
        if department not in Department.values:
            raise UserError(
                "invalid_department",
                _("Observer %(index)s: unknown department"),
                field="observers",
                index=index,
            )
        rows.append(
            (
                department,
                cleaners.text(
                    name, field="observers", label=_numbered(_("Observer %(index)s"), index), max_length=100
                ),
            )
        )
    drill = Drill.objects.create(
        plan=plan, home=home, held_on=held_on, scenario=scenario, created_by=actor, created_at=moment
    )
    Observer.objects.bulk_create([Observer(drill=drill, department=d, name=n) for d, n in rows])
    audit.record(actor=actor, verb="drill.record", obj=drill, org_path=home.org_path, now=moment)
    return drill


@transaction.atomic
def drill_set_timings(
    *,
    actor,
    drill: Drill,
    alarm_at: dt.datetime,
    first_response_at: dt.datetime,
    last_out_at: dt.datetime,
    roll_call_at: dt.datetime,
    now: dt.datetime | None = None,
) -> Drill:
    """The four moments, each at or after the one before (alarm → first response → last out → roll call)."""
    moment = resolve_now(now)
    _keep(actor, drill.home.org_path)
    values = {
        "alarm_at": alarm_at,
        "first_response_at": first_response_at,
        "last_out_at": last_out_at,
        "roll_call_at": roll_call_at,
    }
    for field, name in TIMINGS:
        if not isinstance(values[field], dt.datetime) or values[field].tzinfo is None:
            raise UserError(f"blank_{field}", _("The %(moment)s time is required"), field=field, moment=name)
    for (before, earlier), (after, later) in zip(TIMINGS, TIMINGS[1:], strict=False):
        if values[after] < values[before]:
            raise UserError(
                "timings_out_of_order",
                _("The %(later)s cannot be before the %(earlier)s"),
                field=after,
                later=later,
                earlier=earlier,
            )
    if values["roll_call_at"] > moment:
        raise UserError("timings_in_future", _("The timings cannot be in the future"), field="roll_call_at")
    Drill.objects.filter(pk=drill.pk).update(**values)
    for field, value in values.items():
        setattr(drill, field, value)
    audit.record(
        actor=actor,
        verb="drill.timings",
        obj=drill,
        org_path=drill.home.org_path,
        details={"evacuation_seconds": drill.evacuation_seconds},
        now=moment,
    )
    return drill


@transaction.atomic
def finding_add(
    *,
    actor,
    drill: Drill,
    text: str,
    follow_ups: Sequence[tuple[str, str, dt.date | None]] = (),
    now: dt.datetime | None = None,
) -> DrillFinding:
    """A finding and its follow-up actions (action, owner, due date — owner and due date required)."""
    moment = resolve_now(now)
    _keep(actor, drill.home.org_path)
    text = cleaners.text(text, field="text", label=_("Problem found"), max_length=500)
    rows = []
    for index, (action, owner, due_on) in enumerate(follow_ups, start=1):
        action = cleaners.text(
            action, field="follow_ups", label=_numbered(_("Follow-up %(index)s"), index), max_length=300
        )
        owner = cleaners.text(
            owner, field="owner", label=_numbered(_("Follow-up %(index)s: owner"), index), max_length=100
        )
        if not isinstance(due_on, dt.date):
            raise UserError(
                "blank_due_on",
                _("Follow-up %(index)s: the due date is required"),
                field="due_on",
                index=index,
            )
        rows.append((action, owner, due_on))
    finding = DrillFinding.objects.create(drill=drill, text=text, recorded_at=moment)
    FollowUp.objects.bulk_create(
        [
            FollowUp(finding=finding, org_path=drill.home.org_path, action=a, owner=o, due_on=d)
            for a, o, d in rows
        ]
    )
    audit.record(
        actor=actor,
        verb="drill_finding.add",
        obj=finding,
        org_path=drill.home.org_path,
        details={"follow_ups": len(rows)},
        now=moment,
    )
    return finding


@transaction.atomic
def follow_up_done(*, actor, follow_up: FollowUp, now: dt.datetime | None = None) -> FollowUp:
    moment = resolve_now(now)
    _keep(actor, follow_up.org_path)
    locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if locked.done_at is not None:
        raise UserError("already_done", _("This follow-up is already done"), status=409)
    FollowUp.objects.filter(pk=locked.pk).update(done_at=moment, done_by=actor)
    locked.done_at, locked.done_by = moment, actor
    audit.record(actor=actor, verb="follow_up.done", obj=locked, org_path=locked.org_path, now=moment)
    return locked


@transaction.atomic
def contest_result_add(
    *, actor, drill: Drill, team: str, event: str, seconds, rank: int, now: dt.datetime | None = None
) -> ContestResult:
    """A micro fire station contest result (穿着战斗服, 一带一枪, …) held with the drill."""
    moment = resolve_now(now)
    _keep(actor, drill.home.org_path)
    team = cleaners.text(team, field="team", label=_("Contest team"), max_length=100)
    event = cleaners.text(event, field="event", label=_("Contest event"), max_length=100)
    try:
        timing = Decimal(str(seconds)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        timing = Decimal(-1)
    if not timing.is_finite() or not Decimal(0) < timing < Decimal(100000):
        raise UserError(
            "invalid_seconds", _("The time must be a positive number of seconds"), field="seconds"
        )
    rank = cleaners.whole_number(rank, field="rank", label=_("Rank"), low=1, high=10000)
    result = ContestResult.objects.create(drill=drill, team=team, event=event, seconds=timing, rank=rank)
    audit.record(
        actor=actor, verb="drill.contest_result", obj=result, org_path=drill.home.org_path, now=moment
    )
    return result
