"""Recent activity, relative to the day the demo is built, in both demo streets.

The other steps replay the article's season and the year before it; on a fresh `kangle up` months later,
"last 30 days" views, the to-do home and Open311 (90-day window) would show nothing. This step writes, through
the services, what a working week looks like today: registrations waiting, claims to confirm, records to
verify, an activity next week, a whistle call blown this morning, open cases due soon and past their
deadline (the SLA sweep marks them), a returned case, an extension asked, warnings this month. Both streets
get some of each half, so one admin of either sees both.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from django.utils import timezone

from kangle.accounts.services import role_assign, user_create
from kangle.activities import services as activities
from kangle.cases import jobs
from kangle.cases import services as cases
from kangle.cases.models import CaseCategory, Channel
from kangle.core.errors import UserError
from kangle.core.roles import Role
from kangle.demo import DEMO_PASSWORD
from kangle.members import services as members
from kangle.members.constants import Channel as MemberChannel
from kangle.members.constants import Status
from kangle.members.models import Member
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.selectors import subtree_q
from kangle.posts import services as posts
from kangle.posts.models import Post, PostStatus, ServiceAspect
from kangle.prevention import services as prevention
from kangle.prevention.models import PlaceType
from kangle.recognition import services as recognition
from kangle.recognition.models import Honour

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def build(ctx) -> None:
    now = timezone.now().replace(second=0, microsecond=0)
    made: dict[str, int] = {}
    for street_key, admin_key in (("street:KJ", "user:kj_admin"), ("street:HN", "user:hn_admin")):
        street, admin = ctx.refs.get(street_key), ctx.refs.get(admin_key)
        if street is None or admin is None:
            continue
        communities = list(
            OrgUnit.objects.filter(subtree_q(street.path), kind=OrgKind.COMMUNITY).order_by("code")[:3]
        )
        if not communities:
            continue
        _registrations(ctx, communities, now, made)
        _activity_and_call(ctx, admin, street, communities[0], now, made)
        _records_and_claims(ctx, admin, communities[0], now, made)
        _cases(ctx, admin, communities, now, made)
        _warnings(ctx, admin, communities, now, made)
        _nomination(ctx, admin, communities[0], now, made)
    _desk_cases(ctx, now, made)
    _grid_call(ctx, now, made)
    # The worker would have swept while these clocks ran: warnings and breaches as of now.
    jobs.sla_sweep(now=now, worker_id="demo")
    ctx.summary.update({f"recent_{key}": value for key, value in made.items()})


def _tally(made: dict, key: str, n: int = 1) -> None:
    made[key] = made.get(key, 0) + n


def _registrations(ctx, communities, now, made) -> None:
    """Three people registered on their phones in the last days, waiting for the community's approval."""
    for index, community in enumerate(communities):
        moment = now - dt.timedelta(hours=5 + 19 * index)
        with contextlib.suppress(members.DuplicateFile, UserError):
            members.member_register(
                actor=None,
                data={
                    "name": ctx.faker.name(),
                    "phone": f"135{ctx.rng.randint(10000000, 99999999)}",
                    "political_status": "full",
                    "community": community,
                },
                channel=MemberChannel.PHONE,
                now=moment,
            )
            _tally(made, "registrations_waiting")


def _approved(community, n: int) -> list[Member]:
    return list(
        Member.objects.filter(community=community, status=Status.APPROVED)
        .select_related("community", "org")
        .order_by("pk")[:n]
    )


def _with_account(ctx, member: Member) -> Member:
    """Give a member file a phone login (members answer calls and claim posts themselves)."""
    if member.user_id:
        return member
    user = user_create(
        actor=None,
        username=f"m{member.pk}",
        password=DEMO_PASSWORD,
        display_name=member.name,
        check_password=False,
    )
    role_assign(actor=None, user=user, role=Role.MEMBER, org=member.community)
    Member.objects.filter(pk=member.pk).update(user=user)
    member.user = user
    return member


def _activity_and_call(ctx, admin, street, community, now, made) -> None:
    aspect = ServiceAspect.objects.order_by("pk").first()
    if aspect is None:
        return
    next_week = (now + 7 * DAY).replace(hour=9, minute=0)
    activities.activity_create(
        actor=admin,
        org=street,
        aspect=aspect,
        title="社区便民服务日",
        theme="义诊、理发、家电维修",
        place=f"{community.name}活动室",
        starts_at=next_week,
        ends_at=next_week + 3 * HOUR,
        capacity=30,
        difficulty=2,
        now=now - 2 * DAY,
    )
    _tally(made, "activities_next_week")
    blown = now - 2 * HOUR
    call = activities.call_create(
        actor=admin,
        org=community,
        title="暴雨后清理楼道积水",
        place=f"{community.name}1号楼",
        starts_at=now + 2 * HOUR,
        ends_at=now + 5 * HOUR,
        people_needed=6,
        deadline=now + HOUR,
        now=blown,
    )
    for member in _approved(community, 2):
        member = _with_account(ctx, member)
        with contextlib.suppress(UserError):
            activities.response_create(actor=member.user, call=call, now=blown + 20 * dt.timedelta(minutes=1))
    _tally(made, "calls_today")


def _records_and_claims(ctx, admin, community, now, made) -> None:
    aspect = ServiceAspect.objects.order_by("pk").first()
    people = _approved(community, 4)
    for index, member in enumerate(people[:2]):
        with contextlib.suppress(UserError):
            activities.record_staff_enter(
                actor=admin,
                member=member,
                title="陪同独居老人就医",
                started_at=now - dt.timedelta(days=index + 1, hours=3),
                minutes=90,
                aspect=aspect,
                beneficiaries=1,
                now=now - dt.timedelta(days=index + 1),
            )
            _tally(made, "records_waiting")
    post = Post.objects.filter(org=community, status=PostStatus.OPEN, needs_confirmation=True).first()
    if post is None:
        with contextlib.suppress(UserError):
            post = posts.post_create(
                actor=admin,
                publish=True,
                now=now - 3 * DAY,
                **{
                    "title": "楼道文明劝导员",
                    "aspect": aspect.code,
                    "org": community,
                    "venue": "",
                    "description": "每周六上午劝导楼道堆物，需书记确认后上岗。",
                    "required_skills": [],
                    "preferred_skills": [],
                    "weekly_slots": ["sat_am"],
                    "starts_on": timezone.localdate(now) - 3 * DAY,
                    "ends_on": "",
                    "sessions": [],
                    "capacity": 8,
                    "difficulty": 1,
                    "needs_confirmation": True,
                },
            )
    if post is None:
        return
    for member in people[2:]:
        member = _with_account(ctx, member)
        with contextlib.suppress(UserError):
            posts.claim_create(actor=member.user, post=post, now=now - 10 * HOUR)
            _tally(made, "claims_waiting")


def _report(ctx, actor, category, place, at, title):
    return cases.case_report(
        actor=actor,
        category=category,
        org=place,
        channel=Channel.PHONE_CALL,
        title=title,
        resident_name=ctx.faker.name(),
        phone=f"13{ctx.rng.randint(500000000, 999999999)}",
        address=f"{ctx.faker.street_name()} {ctx.rng.randint(1, 900)} 弄 {ctx.rng.randint(1, 40)} 号",
        now=at,
    )


def _cases(ctx, admin, communities, now, made) -> None:
    """Cases the street's desk has not touched yet: new this morning, due soon, and past the 24 h visit."""
    termite = CaseCategory.objects.filter(code="termite").first()
    if termite is None:
        return
    for hours, title, key in (
        (3, "厨房门框发现蛀痕", "cases_new"),
        (20, "木地板下发现白蚁", "cases_due_soon"),
        (30, "楼道内白蚁群飞", "cases_breached"),
    ):
        _report(ctx, admin, termite, communities[-1], now - hours * HOUR, title)
        _tally(made, key)


def _grid_call(ctx, now, made) -> None:
    """The grid leader's own call this morning: a grid leader's to-do is the calls in their grid."""
    leader = ctx.refs.get("user:kj_grid")
    grid = OrgUnit.objects.filter(code="KJ-C01-E1-G1").first()
    if leader is None or grid is None:
        return
    with contextlib.suppress(UserError):
        activities.call_create(
            actor=leader,
            org=grid,
            title="帮独居老人搬运过冬物资",
            place=f"{grid.name}3号楼",
            starts_at=now + 3 * HOUR,
            ends_at=now + 5 * HOUR,
            people_needed=3,
            deadline=now + 2 * HOUR,
            now=now - HOUR,
        )
        _tally(made, "calls_today")


def _desk_cases(ctx, now, made) -> None:
    """In 湖南街道's workstation: a case returned by the contractor and one whose contractor asks for time."""
    desk, worker = ctx.refs.get("user:hn_desk"), ctx.refs.get("user:hn_contractor")
    contractor = ctx.refs.get("contractor:termite")
    place = OrgUnit.objects.filter(code="HN-C08").first()
    termite = CaseCategory.objects.filter(code="termite").first()
    if None in (desk, worker, contractor, place, termite):
        return
    late = _report(ctx, desk, termite, place, now - 30 * HOUR, "底楼木门框白蚁蛀空")
    cases.case_accept(actor=desk, case=late, now=now - 29 * HOUR)
    _tally(made, "cases_breached")
    returned = _report(ctx, desk, termite, place, now - 6 * HOUR, "阳台木窗框被蛀")
    returned = cases.case_accept(actor=desk, case=returned, now=now - 5 * HOUR)
    returned = cases.case_dispatch(actor=desk, case=returned, contractor=contractor, now=now - 5 * HOUR)
    cases.case_return(
        actor=worker, case=returned, reason="地址不在本单位服务范围内，请改派", now=now - 4 * HOUR
    )
    _tally(made, "cases_returned")
    slow = _report(ctx, desk, termite, place, now - 18 * HOUR, "老洋房木楼梯白蚁")
    slow = cases.case_accept(actor=desk, case=slow, now=now - 17 * HOUR)
    slow = cases.case_dispatch(actor=desk, case=slow, contractor=contractor, now=now - 17 * HOUR)
    slow = cases.case_contractor_accept(actor=worker, case=slow, now=now - 16 * HOUR)
    with contextlib.suppress(UserError):
        cases.extension_request(
            actor=worker,
            case=slow,
            milestone_code="completed",
            hours=24,
            reason="需等待药剂到货后统一施药",
            now=now - 2 * HOUR,
        )
        _tally(made, "extensions_asked")


def _warnings(ctx, admin, communities, now, made) -> None:
    """Patrol warnings this month (the termite season never quite ends in the old lanes)."""
    first = timezone.localtime(now).replace(day=1, hour=9, minute=0)
    for index, community in enumerate(communities):
        moment = max(first, now - dt.timedelta(days=index * 3 + 1))
        with contextlib.suppress(UserError):
            prevention.warning_record(
                actor=admin,
                org=community,
                place_type=PlaceType.OLD_HOUSE,
                occurred_at=moment,
                description="网格巡查发现白蚁活动迹象",
                now=moment,
            )
            _tally(made, "warnings_this_month")


def _nomination(ctx, admin, community, now, made) -> None:
    people = _approved(community, 5)
    if len(people) < 5:
        return
    with contextlib.suppress(UserError):
        recognition.nominate(
            actor=admin,
            honour=Honour.EXCELLENT_MEMBER,
            reason="长期参与社区志愿服务，群众评价好",
            member=people[4],
            now=now - 3 * DAY,
        )
        _tally(made, "nominations_waiting")
