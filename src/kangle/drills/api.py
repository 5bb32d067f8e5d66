"""/api/v1/drills: care homes, plans, assignments, drills, timings, findings and follow-ups, contest results,
figures. Outside the caller's subtree is a 404; a wrong role inside it is a 403."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from ninja.pagination import paginate

from kangle.core.errors import NotAllowed
from kangle.core.pagination import Listing, Pagination
from kangle.drills import access, selectors, services
from kangle.drills.models import CareHome, Drill, DrillPlan
from kangle.orgs.models import Venue
from kangle.orgs.scope import get_in_scope_or_404

router = Router(tags=["drills"])


def _staff(request) -> None:
    if not (request.user.is_superuser or request.user.scope_paths):
        raise NotAllowed()


class CareHomeIn(Schema):
    venue: int
    walks: int = 0
    needs_help: int = 0
    wheelchair: int = 0
    stretcher: int = 0


class CareHomeOut(Schema):
    id: int
    name: str
    org: str
    walks: int
    needs_help: int
    wheelchair: int
    stretcher: int
    residents: int

    @staticmethod
    def of(home: CareHome) -> dict:
        return {
            "id": home.pk,
            "name": home.venue.name,
            "org": home.venue.org.code,
            "walks": home.walks,
            "needs_help": home.needs_help,
            "wheelchair": home.wheelchair,
            "stretcher": home.stretcher,
            "residents": home.residents,
        }


class ResidentGroupIn(Schema):
    name: str
    mobility: str
    count: int


class DrillIdOut(Schema):
    id: int


class PlanTeamIn(Schema):
    kind: str
    leader: str
    members: str = ""


class DrillPlanIn(Schema):
    home: int
    title: str
    scenario: str
    teams: list[PlanTeamIn]


class DrillPlanOut(Schema):
    id: int
    home: int
    title: str
    teams: list[dict]
    assignments: list[dict]

    @staticmethod
    def of(plan: DrillPlan) -> dict:
        return {
            "id": plan.pk,
            "home": plan.home_id,
            "title": plan.title,
            "teams": [{"id": t.pk, "kind": t.kind, "leader": t.leader} for t in plan.teams.all()],
            "assignments": [
                {"person": a.person, "group": a.group_id, "route": a.route, "team": a.team_id}
                for a in plan.assignments.all()
            ],
        }


class AssignmentIn(Schema):
    team: int
    person: str
    group: int
    route: str


class DrillObserverIn(Schema):
    department: str
    name: str


class DrillIn(Schema):
    plan: int
    held_on: dt.date
    scenario: str = ""
    observers: list[DrillObserverIn] = []


class DrillTimingsIn(Schema):
    alarm_at: dt.datetime
    first_response_at: dt.datetime
    last_out_at: dt.datetime
    roll_call_at: dt.datetime


class DrillOut(Schema):
    id: int
    home: int
    held_on: dt.date
    scenario: str
    observers: list[dict]
    evacuation_seconds: int | None

    @staticmethod
    def of(drill: Drill) -> dict:
        return {
            "id": drill.pk,
            "home": drill.home_id,
            "held_on": drill.held_on,
            "scenario": drill.scenario,
            "observers": [{"department": o.department, "name": o.name} for o in drill.observers.all()],
            "evacuation_seconds": drill.evacuation_seconds,
        }


class DrillFollowUpIn(Schema):
    action: str
    owner: str = ""
    due_on: dt.date | None = None


class DrillFindingIn(Schema):
    text: str
    follow_ups: list[DrillFollowUpIn] = []


class ContestResultIn(Schema):
    team: str
    event: str
    seconds: float
    rank: int


@router.get("/homes", response=list[CareHomeOut])
@paginate(Pagination, page_size=50)
def list_homes(request):
    _staff(request)
    return Listing(selectors.homes_for(request.user).order_by("venue__name", "id"), row=CareHomeOut.of)


@router.post("/homes", response={201: CareHomeOut})
def save_home(request, payload: CareHomeIn):
    _staff(request)
    venue = get_in_scope_or_404(request.user, Venue.objects.select_related("org"), pk=payload.venue)
    home = services.care_home_save(
        actor=request.user,
        venue=venue,
        walks=payload.walks,
        needs_help=payload.needs_help,
        wheelchair=payload.wheelchair,
        stretcher=payload.stretcher,
    )
    return 201, CareHomeOut.of(home)


@router.post("/homes/{int:pk}/groups", response={201: DrillIdOut})
def add_group(request, pk: int, payload: ResidentGroupIn):
    home = access.access_home(request.user, pk)
    group = services.resident_group_create(
        actor=request.user, home=home, name=payload.name, mobility=payload.mobility, count=payload.count
    )
    return 201, {"id": group.pk}


@router.post("/plans", response={201: DrillPlanOut})
def create_plan(request, payload: DrillPlanIn):
    home = access.access_home(request.user, payload.home)
    plan = services.plan_create(
        actor=request.user,
        home=home,
        title=payload.title,
        scenario=payload.scenario,
        teams=[(t.kind, t.leader, t.members) for t in payload.teams],
    )
    return 201, DrillPlanOut.of(plan)


@router.post("/plans/{int:pk}/assignments", response={201: DrillPlanOut})
def add_assignment(request, pk: int, payload: AssignmentIn):
    plan = access.access_plan(request.user, pk)
    team = plan.teams.filter(pk=payload.team).first()
    group = access.access_group(request.user, payload.group)
    if team is None:
        from kangle.core.errors import UserError

        raise UserError("team_not_in_plan", _("The team is not part of this plan"), field="team")
    services.assignment_add(
        actor=request.user, plan=plan, team=team, person=payload.person, group=group, route=payload.route
    )
    return 201, DrillPlanOut.of(plan)


@router.post("/", response={201: DrillOut})
def record_drill(request, payload: DrillIn):
    plan = access.access_plan(request.user, payload.plan)
    drill = services.drill_record(
        actor=request.user,
        plan=plan,
        held_on=payload.held_on,
        scenario=payload.scenario,
        observers=[(o.department, o.name) for o in payload.observers],
    )
    return 201, DrillOut.of(drill)


@router.get("/figures")
def figures(request):
    _staff(request)
    return selectors.figures(request.user)


@router.get("/{int:pk}", response=DrillOut)
def get_drill(request, pk: int):
    return DrillOut.of(access.access_drill(request.user, pk))


@router.post("/{int:pk}/timings", response=DrillOut)
def set_timings(request, pk: int, payload: DrillTimingsIn):
    drill = access.access_drill(request.user, pk)
    return DrillOut.of(services.drill_set_timings(actor=request.user, drill=drill, **payload.dict()))


@router.post("/{int:pk}/findings", response={201: DrillIdOut})
def add_finding(request, pk: int, payload: DrillFindingIn):
    drill = access.access_drill(request.user, pk)
    finding = services.finding_add(
        actor=request.user,
        drill=drill,
        text=payload.text,
        follow_ups=[(f.action, f.owner, f.due_on) for f in payload.follow_ups],
    )
    return 201, {"id": finding.pk}


@router.post("/follow-ups/{int:pk}/done", response=DrillIdOut)
def follow_up_done(request, pk: int):
    follow_up = access.access_follow_up(request.user, pk)
    return {"id": services.follow_up_done(actor=request.user, follow_up=follow_up).pk}


@router.post("/{int:pk}/contest", response={201: DrillIdOut})
def add_contest_result(request, pk: int, payload: ContestResultIn):
    drill = access.access_drill(request.user, pk)
    result = services.contest_result_add(
        actor=request.user,
        drill=drill,
        team=payload.team,
        event=payload.event,
        seconds=payload.seconds,
        rank=payload.rank,
    )
    return 201, {"id": result.pk}
