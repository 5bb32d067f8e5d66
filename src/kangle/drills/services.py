"""Every change to the drill register. Each service checks scope (404 outside) and role (403 inside),
validates, writes, and records an audit event, inside one transaction: nothing half-written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.http import Http404

from kangle.core import audit
from kangle.core.errors import NotAllowed, UserError
from kangle.core.text import normalise_text
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

# The timings in their only possible order: (field, 中文, English).
TIMINGS = [
    ("alarm_at", "警报拉响", "alarm"),
    ("first_response_at", "首次处置", "first response"),
    ("last_out_at", "最后一位老人撤出", "last resident out"),
    ("roll_call_at", "清点人数完成", "roll call"),
]


def _keep(actor, path: str) -> None:
    if not permissions.can_view(actor, path):
        raise Http404
    if not permissions.can_keep(actor, path):
        raise NotAllowed(
            "只有街道、片区、居民区工作人员可以维护演练登记",
            "Only street, area and community staff keep the drill register",
        )


def _text(value, *, field: str, zh: str, en: str, max_length: int, required: bool = True) -> str:
    text = normalise_text(value)
    if required and not text:
        raise UserError(f"blank_{field}", f"请填写{zh}", f"{en} is required", field=field)
    if len(text) > max_length:
        raise UserError(
            f"long_{field}",
            f"{zh}不能超过 {max_length} 个字",
            f"{en} is longer than {max_length}",
            field=field,
        )
    return text


def _count(value, *, field: str, zh: str, en: str, low: int = 0) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not low <= number <= 10000:
        raise UserError(
            f"invalid_{field}",
            f"{zh}应为 {low} 到 10000 之间的整数",
            f"{en} must be a whole number from {low} to 10000",
            field=field,
        )
    return number


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
        raise UserError(
            "not_a_care_home", "该场所不是养老机构", "This venue is not an elderly-care home", field="venue"
        )
    counts = {
        "walks": _count(walks, field="walks", zh="可自行行走人数", en="Walks"),
        "needs_help": _count(needs_help, field="needs_help", zh="需搀扶人数", en="Needs help"),
        "wheelchair": _count(wheelchair, field="wheelchair", zh="轮椅人数", en="Wheelchair"),
        "stretcher": _count(stretcher, field="stretcher", zh="需担架人数", en="Stretcher"),
    }
    home, created = CareHome.objects.update_or_create(
        venue=venue, defaults={**counts, "org_path": venue.org.path, "updated_at": moment}
    )
    audit.record(
        actor=actor,
        verb="drills.care_home_create" if created else "drills.care_home_update",
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
    name = _text(name, field="name", zh="老人分组名称", en="Group name", max_length=100)
    if mobility not in Mobility.values:
        raise UserError(
            "invalid_mobility",
            "行动能力只能是自行行走、需搀扶、轮椅或担架",
            "Unknown mobility",
            field="mobility",
        )
    count = _count(count, field="count", zh="人数", en="Count", low=1)
    group = ResidentGroup.objects.create(home=home, name=name, mobility=mobility, count=count)
    audit.record(actor=actor, verb="drills.group_create", obj=group, org_path=home.org_path, now=moment)
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
    title = _text(title, field="title", zh="预案名称", en="Title", max_length=100)
    scenario = _text(scenario, field="scenario", zh="演练场景", en="Scenario", max_length=300)
    rows = []
    for index, (kind, leader, members) in enumerate(teams, start=1):
        if kind not in TeamKind.values:
            raise UserError(
                "invalid_team", f"第 {index} 个小组的类型未知", f"Team {index}: unknown kind", field="teams"
            )
        leader = _text(
            leader, field="teams", zh=f"第 {index} 个小组的负责人", en=f"Team {index}: leader", max_length=50
        )
        members = _text(
            members,
            field="teams",
            zh=f"第 {index} 个小组的成员",
            en=f"Team {index}: members",
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
            "teams_missing",
            "预案必须包含通讯组和微型消防站",
            "A plan needs a communications team and a micro fire station",
            field="teams",
        )
    plan = DrillPlan.objects.create(
        home=home, title=title, scenario=scenario, created_by=actor, created_at=moment
    )
    PlanTeam.objects.bulk_create(
        [PlanTeam(plan=plan, kind=kind, leader=leader, members=members) for kind, leader, members in rows]
    )
    audit.record(
        actor=actor,
        verb="drills.plan_create",
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
        raise UserError(
            "team_not_in_plan", "该小组不属于本预案", "The team is not part of this plan", field="team"
        )
    if group.home_id != home.pk:
        raise UserError(
            "group_not_in_home",
            f"老人分组「{group.name}」不在「{home.venue.name}」，不能编入本预案",
            f"The resident group '{group.name}' does not live in '{home.venue.name}'",
            field="group",
        )
    person = _text(person, field="person", zh="负责转移的人员", en="Who moves them", max_length=50)
    route = _text(route, field="route", zh="疏散路线", en="Route", max_length=200)
    assignment = Assignment.objects.create(plan=plan, team=team, person=person, group=group, route=route)
    audit.record(
        actor=actor,
        verb="drills.assignment_add",
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
        raise UserError("blank_held_on", "请填写演练日期", "The drill date is required", field="held_on")
    scenario = _text(
        scenario or plan.scenario, field="scenario", zh="演练场景", en="Scenario", max_length=300
    )
    rows = []
    for index, (department, name) in enumerate(observers, start=1):
        if department not in Department.values:
            raise UserError(
                "invalid_department",
                f"第 {index} 位观摩人员的部门未知",
                f"Observer {index}: unknown department",
                field="observers",
            )
        rows.append(
            (
                department,
                _text(
                    name,
                    field="observers",
                    zh=f"第 {index} 位观摩人员",
                    en=f"Observer {index}",
                    max_length=100,
                ),
            )
        )
    drill = Drill.objects.create(
        plan=plan, home=home, held_on=held_on, scenario=scenario, created_by=actor, created_at=moment
    )
    Observer.objects.bulk_create([Observer(drill=drill, department=d, name=n) for d, n in rows])
    audit.record(actor=actor, verb="drills.drill_record", obj=drill, org_path=home.org_path, now=moment)
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
    for field, zh, en in TIMINGS:
        if not isinstance(values[field], dt.datetime) or values[field].tzinfo is None:
            raise UserError(f"blank_{field}", f"请填写{zh}时间", f"The {en} time is required", field=field)
    for (before, zh_before, en_before), (after, zh_after, en_after) in zip(
        TIMINGS, TIMINGS[1:], strict=False
    ):
        if values[after] < values[before]:
            raise UserError(
                "timings_out_of_order",
                f"「{zh_after}」时间不能早于「{zh_before}」",
                f"The {en_after} cannot be before the {en_before}",
                field=after,
            )
    if values["roll_call_at"] > moment:
        raise UserError(
            "timings_in_future",
            "演练时间不能晚于现在",
            "The timings cannot be in the future",
            field="roll_call_at",
        )
    Drill.objects.filter(pk=drill.pk).update(**values)
    for field, value in values.items():
        setattr(drill, field, value)
    audit.record(
        actor=actor,
        verb="drills.timings",
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
    text = _text(text, field="text", zh="发现的问题", en="Finding", max_length=500)
    rows = []
    for index, (action, owner, due_on) in enumerate(follow_ups, start=1):
        action = _text(
            action, field="follow_ups", zh=f"第 {index} 项整改措施", en=f"Follow-up {index}", max_length=300
        )
        owner = _text(
            owner,
            field="owner",
            zh=f"第 {index} 项整改措施的责任人",
            en=f"Follow-up {index}: owner",
            max_length=100,
        )
        if not isinstance(due_on, dt.date):
            raise UserError(
                "blank_due_on",
                f"请填写第 {index} 项整改措施的完成期限",
                f"Follow-up {index}: the due date is required",
                field="due_on",
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
        verb="drills.finding_add",
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
        raise UserError("already_done", "该整改措施已完成", "This follow-up is already done", status=409)
    FollowUp.objects.filter(pk=locked.pk).update(done_at=moment, done_by=actor)
    locked.done_at, locked.done_by = moment, actor
    audit.record(actor=actor, verb="drills.follow_up_done", obj=locked, org_path=locked.org_path, now=moment)
    return locked


@transaction.atomic
def contest_result_add(
    *, actor, drill: Drill, team: str, event: str, seconds, rank: int, now: dt.datetime | None = None
) -> ContestResult:
    """A micro fire station contest result (穿着战斗服, 一带一枪, …) held with the drill."""
    moment = resolve_now(now)
    _keep(actor, drill.home.org_path)
    team = _text(team, field="team", zh="参赛队伍", en="Team", max_length=100)
    event = _text(event, field="event", zh="比武项目", en="Event", max_length=100)
    try:
        timing = Decimal(str(seconds)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        timing = Decimal(-1)
    if not timing.is_finite() or not Decimal(0) < timing < Decimal(100000):
        raise UserError(
            "invalid_seconds",
            "用时应为大于 0 的秒数",
            "The time must be a positive number of seconds",
            field="seconds",
        )
    rank = _count(rank, field="rank", zh="名次", en="Rank", low=1)
    result = ContestResult.objects.create(drill=drill, team=team, event=event, seconds=timing, rank=rank)
    audit.record(
        actor=actor, verb="drills.contest_result", obj=result, org_path=drill.home.org_path, now=moment
    )
    return result
