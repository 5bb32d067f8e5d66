"""民情快办 demo data in 湖南街道: contractors, the article's 武康大楼 termite case (reported, visited the
same day, closed inside 48 hours), and a rainy season of cases walked through the real services — most on
time, some late, breached and escalated by the real SLA sweep.

``bulk_cases`` writes many cases straight to the tables (no timeline) for the SLA sweep benchmark.
"""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

from django.db.models import Q
from PIL import Image, ImageDraw

from kangle.cases import jobs, reference, services
from kangle.cases.models import (
    Case,
    CaseCategory,
    CaseMilestone,
    CaseStatus,
    Channel,
    Contractor,
    Milestone,
    MilestoneState,
    WorkStep,
)
from kangle.core.roles import Role
from kangle.core.uploads import ValidatedImage
from kangle.demo import DEMO_PASSWORD
from kangle.orgs.models import OrgUnit

SH = ZoneInfo("Asia/Shanghai")
LANDMARK_REPORTED = dt.datetime(2026, 6, 5, 9, 12, tzinfo=SH)
SEASON_START = dt.datetime(2026, 5, 20, 8, 0, tzinfo=SH)
SEASON_END = dt.datetime(2026, 7, 20, 18, 0, tzinfo=SH)
SEASON_SIZE = {"street": 120, "district": 400, "city": 800}

EXTRA_CONTRACTORS = [
    ("hn_contractor2", "申衡管道疏通服务部", ["water_leak", "drain_blocked"], "管道疏通专业组织（湖南街道）"),
    ("hn_contractor3", "衡复绿化养护公司", ["greenery", "noise", "other"], "绿化养护专业组织（湖南街道）"),
]
TITLES = {
    "termite": ["木地板下发现白蚁", "门框被蛀空", "楼道内白蚁群飞", "窗台有泥线", "衣柜底部有蚁路"],
    "water_leak": ["楼上漏水到卧室", "厨房水管渗水", "屋顶漏雨"],
    "drain_blocked": ["下水道返水", "弄堂窨井堵塞", "卫生间地漏不通"],
    "noise": ["夜间施工噪音", "空调外机噪音"],
    "greenery": ["树枝压到电线", "绿化带杂草过高"],
    "other": ["楼道灯不亮", "公共门禁损坏"],
}
CATEGORY_WEIGHTS = [
    ("termite", 55),
    ("water_leak", 12),
    ("drain_blocked", 12),
    ("noise", 6),
    ("greenery", 8),
    ("other", 7),
]


def _photo(label: str, colour: tuple[int, int, int]) -> ValidatedImage:
    image = Image.new("RGB", (320, 240), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 310, 230), outline=(255, 255, 255), width=3)
    draw.text((24, 100), label, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return ValidatedImage(content=buffer.getvalue(), content_type="image/jpeg", extension="jpg")


def _contractors(ctx) -> list[Contractor]:
    """The street's contractors and their staff accounts, through the reference-data services."""
    street = ctx.refs["street:HN"]
    categories = {c.code: c for c in CaseCategory.objects.all()}
    termite = reference.contractor_create(
        actor=None,
        name="衡复白蚁防治所",
        org=street,
        categories=[categories["termite"], categories["pests"]],
        phone="021-64330000",
        priority=10,
    )
    reference.contractor_staff_link(actor=None, contractor=termite, user=ctx.refs["user:hn_contractor"])
    made = [termite]
    for username, name, codes, where in EXTRA_CONTRACTORS:
        contractor = reference.contractor_create(
            actor=None, name=name, org=street, categories=[categories[code] for code in codes], priority=5
        )
        issued = reference.contractor_staff_create(
            actor=None,
            contractor=contractor,
            username=username,
            display_name=ctx.faker.name(),
            phone=f"137{ctx.rng.randint(10000000, 99999999)}",
            initial_password=DEMO_PASSWORD,
        )
        ctx.refs[f"user:{username}"] = issued.user
        ctx.logins.append((username, str(Role.CONTRACTOR.label), where))
        made.append(contractor)
    ctx.refs["contractor:termite"] = termite
    return made


def _landmark(ctx) -> Case:
    """6月上旬, 武康大楼: residents see termites swarming; the team arrives the same day; done within 48 h."""
    # long: the article's case told step by step in one place, so it reads like the newspaper page.
    desk, worker, resident = (
        ctx.refs["user:hn_desk"],
        ctx.refs["user:hn_contractor"],
        ctx.refs["user:hn_resident"],
    )
    community = OrgUnit.objects.get(code="HN-C08")
    termite = CaseCategory.objects.get(code="termite")
    at = LANDMARK_REPORTED
    case = services.case_report(
        actor=resident,
        category=termite,
        org=community,
        channel=Channel.ONLINE,
        title="武康大楼楼宇内出现白蚁群飞",
        description="傍晚楼道和住户室内出现大量飞蚁，窗台有翅膀堆积，担心木结构受损。",
        address="淮海中路 1850 号 武康大楼",
        photos=[_photo("Wukang Mansion: swarm", (120, 80, 40))],
        now=at,
    )
    minute = dt.timedelta(minutes=1)
    services.case_accept(actor=desk, case=case, now=at + 8 * minute)
    services.case_dispatch(
        actor=desk, case=case, contractor=ctx.refs["contractor:termite"], now=at + 13 * minute
    )
    services.case_contractor_accept(actor=worker, case=case, now=at + 25 * minute)
    services.case_book(
        actor=worker,
        case=case,
        slot_start=at.replace(hour=14, minute=0),
        slot_end=at.replace(hour=16, minute=0),
        note="与居民约定当日下午上门",
        now=at + 31 * minute,
    )
    services.case_contact(
        actor=worker, case=case, note="电话了解飞蚁出现的位置和时间", now=at.replace(hour=13, minute=20)
    )
    services.case_check_in(
        actor=worker,
        case=case,
        photos=[_photo("on site", (60, 90, 140))],
        note="抵达武康大楼",
        now=at.replace(hour=14, minute=5),
    )
    steps = [
        (
            WorkStep.SURVEY,
            "与居民沟通了解情况，勘察受影响部位，排查楼道及住户室内环境",
            dt.timedelta(hours=5, minutes=10),
        ),
        (WorkStep.NEST_LOCATED, "在底层楼梯木踏步下定位蚁巢", dt.timedelta(hours=6, minutes=20)),
        (WorkStep.TREATED, "启动综合防治方案，喷粉灭杀并布设诱饵", dt.timedelta(hours=7, minutes=30)),
        (WorkStep.CLEANED_UP, "现场整理，清理蛀蚀木屑", dt.timedelta(days=1, hours=6)),
        (
            WorkStep.PREVENTION_EXPLAINED,
            "向居民普及白蚁防治知识及日常注意事项",
            dt.timedelta(days=1, hours=6, minutes=40),
        ),
    ]
    for step, note, offset in steps:
        services.case_record_step(
            actor=worker,
            case=case,
            step=step,
            note=note,
            photos=[_photo(step, (40, 110, 70))],
            now=at.replace(hour=9, minute=0) + offset,
        )
    services.case_finish(
        actor=worker, case=case, note="全流程处置完成", now=at + dt.timedelta(days=1, hours=7)
    )
    services.case_feedback(
        actor=resident,
        case=case,
        satisfied=True,
        rating=5,
        comment="当天就来了，处理得很专业",
        now=at + dt.timedelta(days=1, hours=10),
    )
    ctx.refs["case:landmark"] = case
    return case


def _weighted(ctx, pairs):
    total = sum(weight for _, weight in pairs)
    pick = ctx.rng.uniform(0, total)
    for value, weight in pairs:
        pick -= weight
        if pick <= 0:
            return value
    return pairs[-1][0]


def _season(ctx, contractors: list[Contractor]) -> dict[str, int]:
    """A rainy season of cases across 湖南街道, each walked as far as its fate says, at plausible times."""
    desk = ctx.refs["user:hn_desk"]
    admin = ctx.refs["user:hn_admin"]
    categories = {c.code: c for c in CaseCategory.objects.all()}
    places = list(
        OrgUnit.objects.filter(code__startswith="HN-C", kind__in=["community", "estate"]).order_by("code")
    )
    by_category = {}
    for contractor in contractors:
        for category in contractor.categories.all():
            by_category.setdefault(category.code, contractor)
    span = (SEASON_END - SEASON_START).total_seconds()
    counts = {"on_time": 0, "late": 0, "open": 0, "cancelled": 0, "rework": 0}
    for _ in range(SEASON_SIZE.get(ctx.scale, 160)):
        code = _weighted(ctx, CATEGORY_WEIGHTS)
        category = categories[code]
        place = ctx.rng.choice(places)
        at = SEASON_START + dt.timedelta(seconds=ctx.rng.uniform(0, span * 0.97))
        at = at.replace(hour=ctx.rng.randint(7, 20), second=0, microsecond=0)
        channel = ctx.rng.choice(
            [Channel.WALK_IN, Channel.PHONE_CALL, Channel.PHONE_CALL, Channel.GRID_PATROL]
        )
        actor = admin if channel == Channel.GRID_PATROL else desk
        if not place.path.startswith(ctx.refs["area:HN-A3"].path):
            actor = admin  # hn_desk's workstation covers 武康片区; the street admin logs the rest
        road = ctx.faker.street_name()
        case = services.case_report(
            actor=actor,
            category=category,
            org=place,
            channel=channel,
            title=ctx.rng.choice(TITLES[code]),
            resident_name=ctx.faker.name(),
            phone=f"13{ctx.rng.randint(500000000, 999999999)}",
            address=f"{road} {ctx.rng.randint(1, 1500)} 弄 {ctx.rng.randint(1, 60)} 号 "
            f"{ctx.rng.randint(101, 604)} 室",
            now=at,
        )
        fate = _weighted(ctx, [("on_time", 70), ("late", 14), ("open", 6), ("cancelled", 4), ("rework", 6)])
        if at > SEASON_END - dt.timedelta(days=2):
            fate = "open"
        counts[fate] += 1
        _walk(ctx, case, fate, actor=actor, desk=desk, contractor=by_category[code], at=at)
    # The SLA sweep over the season, as the worker would have run it: warnings, breaches and escalations.
    # The worker sweeps every few seconds; replaying that, only the sweeps at a clock's next warning,
    # deadline or escalation change anything, so the demo runs exactly those.
    _sweep_until(SEASON_START, SEASON_END + dt.timedelta(days=3))
    return counts


def _walk(ctx, case: Case, fate: str, *, actor, desk, contractor: Contractor, at: dt.datetime) -> None:
    """Walk one season case as far as its fate says: cancelled, left open, late, reworked or on time."""
    if fate == "cancelled":
        services.case_cancel(actor=actor, case=case, reason="居民已自行解决", now=at + dt.timedelta(hours=1))
        return
    hours = ctx.rng.uniform(0.1, 0.6)
    services.case_accept(actor=actor, case=case, now=at + dt.timedelta(hours=hours))
    hours += ctx.rng.uniform(0.05, 0.3)
    services.case_dispatch(actor=actor, case=case, contractor=contractor, now=at + dt.timedelta(hours=hours))
    worker = contractor.users.first()
    if fate == "open" and ctx.rng.random() < 0.5:
        return  # waiting for the contractor: these breach and escalate
    hours += ctx.rng.uniform(0.1, 1.5)
    services.case_contractor_accept(actor=worker, case=case, now=at + dt.timedelta(hours=hours))
    hours += 0.1
    visit = hours + (ctx.rng.uniform(2, 20) if fate != "late" else ctx.rng.uniform(25, 40))
    services.case_book(
        actor=worker,
        case=case,
        slot_start=at + dt.timedelta(hours=visit),
        slot_end=at + dt.timedelta(hours=visit + 2),
        now=at + dt.timedelta(hours=hours),
    )
    if fate == "open":
        return
    if fate == "late":
        # The sweep runs while the visit is still pending: the on-site clock breaches and escalates.
        jobs.sla_sweep(now=at + dt.timedelta(hours=24, minutes=1), worker_id="demo")
    services.case_contact(actor=worker, case=case, now=at + dt.timedelta(hours=visit - 1))
    _check_in(worker, case, at + dt.timedelta(hours=visit + 0.2))
    for step in (WorkStep.SURVEY, WorkStep.TREATED, WorkStep.CLEANED_UP):
        visit += ctx.rng.uniform(0.3, 1.0)
        services.case_record_step(
            actor=worker, case=case, step=step, now=at + dt.timedelta(hours=visit + 0.2)
        )
    done = visit + (ctx.rng.uniform(1, 10) if fate != "late" else ctx.rng.uniform(15, 30))
    services.case_finish(actor=worker, case=case, note="处置完成", now=at + dt.timedelta(hours=done))
    close_at = at + dt.timedelta(hours=done + ctx.rng.uniform(2, 30))
    if fate == "rework":
        _feedback_or_close(ctx, case, desk, satisfied=False, moment=close_at)
        services.case_book(
            actor=worker,
            case=case,
            slot_start=close_at + dt.timedelta(hours=20),
            slot_end=close_at + dt.timedelta(hours=22),
            now=close_at + dt.timedelta(hours=1),
        )
        _check_in(worker, case, close_at + dt.timedelta(hours=20, minutes=10))
        services.case_finish(actor=worker, case=case, note="返工完成", now=close_at + dt.timedelta(hours=22))
        close_at += dt.timedelta(hours=30)
    _feedback_or_close(
        ctx, case, desk, satisfied=ctx.rng.random() < 0.93, moment=close_at, allow_rework=False
    )


def _sweep_until(start: dt.datetime, end: dt.datetime) -> int:
    from django.db.models import Min

    moment, sweeps = start, 0
    while True:
        due = CaseMilestone.objects.aggregate(
            warn=Min("warn_at", filter=Q(warn_at__gt=moment)),
            due=Min("due_at", filter=Q(due_at__gt=moment)),
            escalate=Min("next_escalation_at", filter=Q(next_escalation_at__gt=moment)),
        )
        upcoming = [value for value in due.values() if value is not None]
        if not upcoming or min(upcoming) > end:
            return sweeps
        moment = min(upcoming)
        jobs.sla_sweep(now=moment, worker_id="demo")
        sweeps += 1


def _check_in(worker, case, moment):
    services.case_check_in(actor=worker, case=case, photos=[_photo("check-in", (90, 90, 90))], now=moment)


def _feedback_or_close(ctx, case, desk, *, satisfied: bool, moment, allow_rework: bool = True) -> None:
    """Online reports are rated by the reporter's account; walk-in and phone cases through the tracking page
    (phone suffix); a few get no feedback and the desk closes them."""
    if not satisfied and not allow_rework:
        satisfied = True
    if ctx.rng.random() < 0.12 and satisfied:
        actor = desk if case.org.path.startswith(ctx.refs["area:HN-A3"].path) else ctx.refs["user:hn_admin"]
        services.case_close(actor=actor, case=case, note="多次联系居民未回复，结案", now=moment)
        return
    rating = ctx.rng.choice([4, 5, 5, 5]) if satisfied else ctx.rng.choice([1, 2, 3])
    services.case_feedback(
        actor=None,
        case=case,
        satisfied=satisfied,
        rating=rating,
        comment="" if satisfied else "仍有白蚁活动，请再来看看",
        verified_by_phone=True,
        now=moment,
    )


def build(ctx) -> None:
    contractors = _contractors(ctx)
    _landmark(ctx)
    counts = _season(ctx, contractors)
    ctx.summary["cases"] = Case.objects.count()
    ctx.summary["cases_breached"] = (
        CaseMilestone.objects.filter(state__in=[MilestoneState.BREACHED, MilestoneState.MET_LATE])
        .values("case")
        .distinct()
        .count()
    )
    ctx.summary["cases_open"] = Case.objects.exclude(
        status__in=[CaseStatus.CLOSED, CaseStatus.CANCELLED]
    ).count()
    ctx.summary["contractors"] = len(contractors)
    ctx.refs["cases:season"] = counts


# --- bulk data for the SLA sweep benchmark ------------------------------------------------------------------
def bulk_cases(
    *, count: int, open_share: float, now: dt.datetime, seed: int = 7, batch: int = 20000, progress=None
) -> int:
    """Insert ``count`` termite cases with their two clocks straight into the tables (no timeline, no audit):
    ``open_share`` of them still open with due times spread around ``now``, the rest closed long ago."""
    import random

    rng = random.Random(seed)
    category = CaseCategory.objects.select_related("policy").get(code="termite")
    milestones = list(Milestone.objects.filter(policy=category.policy).order_by("order"))
    places = list(
        OrgUnit.objects.filter(kind__in=["community", "estate"]).values_list("pk", flat=True)[:5000]
    )
    start = Case.objects.count()
    made = 0
    while made < count:
        size = min(batch, count - made)
        cases = []
        for i in range(size):
            number = start + made + i
            is_open = rng.random() < open_share
            reported = now - dt.timedelta(hours=rng.uniform(0, 60) if is_open else rng.uniform(100, 20000))
            cases.append(
                Case(
                    number=f"MB{number:010d}",
                    category=category,
                    org_id=rng.choice(places),
                    channel=Channel.PHONE_CALL,
                    title="bench",
                    status=CaseStatus.BOOKED if is_open else CaseStatus.CLOSED,
                    reported_at=reported,
                    closed_at=None if is_open else reported + dt.timedelta(hours=30),
                )
            )
        Case.objects.bulk_create(cases, batch_size=5000)
        clocks = []
        for case in cases:
            for milestone in milestones:
                deadline = case.reported_at + dt.timedelta(hours=milestone.hours)
                if case.status == CaseStatus.CLOSED:
                    clocks.append(
                        CaseMilestone(
                            case=case,
                            org_id=case.org_id,
                            milestone=milestone,
                            started_at=case.reported_at,
                            deadline=deadline,
                            state=MilestoneState.MET,
                            met_at=case.reported_at + dt.timedelta(hours=milestone.hours / 2),
                        )
                    )
                else:
                    clocks.append(
                        CaseMilestone(
                            case=case,
                            org_id=case.org_id,
                            milestone=milestone,
                            started_at=case.reported_at,
                            deadline=deadline,
                            due_at=deadline,
                            warn_at=case.reported_at + dt.timedelta(hours=milestone.hours * 0.75),
                            next_escalation_at=deadline,
                        )
                    )
        CaseMilestone.objects.bulk_create(clocks, batch_size=10000)
        made += size
        if progress:
            progress(made)
    return made


CASES_SQL = """
INSERT INTO cases_case (number, category_id, org_id, status, channel, title, description,
    resident_name, phone, phone_mask, address, address_mask, address_hash, answers, media_url, reported_at,
    closed_at, rework_count, version)
SELECT 'MB' || lpad(g::text, 10, '0'), %(category)s,
       (%(places)s::bigint[])[1 + (g %% %(n_places)s)],
       CASE WHEN r.is_open THEN 'booked' ELSE 'closed' END, 'phone_call', 'bench', '', '', '', '', '', '', '',
       '{}'::jsonb, '', r.reported, CASE WHEN r.is_open THEN NULL ELSE r.reported + interval '30 hours' END, 0, 0
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g,
LATERAL (SELECT x < %(share)s AS is_open,
                %(now)s - CASE WHEN x < %(share)s THEN random() * interval '60 hours'
                               ELSE interval '100 hours' + random() * interval '19900 hours' END
                AS reported
         FROM (SELECT random() AS x WHERE g IS NOT NULL) AS draw) AS r
"""

CLOCKS_SQL = """
INSERT INTO cases_casemilestone (case_id, org_id, milestone_id, round, state, started_at, deadline, due_at,
    warn_at, next_escalation_at, escalation_level, met_at, extended_hours)
SELECT c.id, c.org_id, m.id, 0, CASE WHEN c.status = 'closed' THEN 'met' ELSE 'running' END, c.reported_at,
       c.reported_at + m.hours * interval '1 hour',
       CASE WHEN c.status = 'closed' THEN NULL ELSE c.reported_at + m.hours * interval '1 hour' END,
       CASE WHEN c.status = 'closed' THEN NULL
            ELSE c.reported_at + m.hours * interval '45 minutes' END,
       CASE WHEN c.status = 'closed' THEN NULL ELSE c.reported_at + m.hours * interval '1 hour' END,
       0,
       CASE WHEN c.status = 'closed' THEN c.reported_at + m.hours * interval '30 minutes' END, 0
FROM cases_case c JOIN cases_milestone m ON m.policy_id = %(policy)s AND NOT m.on_rework
WHERE c.number >= %(low)s AND c.number <= %(high)s
"""

# Each case's timeline as the desk, the contractor and the resident write it: a closed case's every step,
# the last at its closing; an open (booked) case's up to its booking, an hour apart or closer, none later
# than now.
TIMELINE_STEPS = (
    ("reported", "", "reported"),
    ("accepted", "reported", "accepted"),
    ("dispatched", "accepted", "dispatched"),
    ("contractor_accepted", "dispatched", "assigned"),
    ("booked", "assigned", "booked"),
    ("contacted", "booked", "contacted"),
    ("checked_in", "contacted", "on_site"),
    ("work_done", "on_site", "work_done"),
    ("closed", "work_done", "closed"),
)

EVENTS_SQL = """
INSERT INTO cases_caseevent (case_id, kind, at, from_status, to_status, step, note, data, public)
SELECT c.id, s.kind,
       c.reported_at + s.n * CASE WHEN c.status = 'closed' THEN (c.closed_at - c.reported_at) / %(last_step)s
                                  ELSE LEAST(interval '1 hour', (%(now)s - c.reported_at) / %(open_steps)s) END,
       s.from_status, s.to_status, '', '', '{}'::jsonb, true
FROM cases_case c
JOIN (SELECT (ordinality - 1)::int AS n, kind, from_status, to_status
      FROM unnest(%(kinds)s::text[], %(froms)s::text[], %(tos)s::text[]) WITH ORDINALITY
           AS steps(kind, from_status, to_status)) AS s
  ON c.status = 'closed' OR s.n <= %(open_steps)s
WHERE c.number >= %(low)s AND c.number <= %(high)s
"""


def bulk_cases_sql(
    *,
    count: int,
    open_share: float,
    now: dt.datetime,
    seed: float = 0.42,
    chunk: int = 200_000,
    progress=None,
    timelines: bool = False,
) -> int:
    """The same data as ``bulk_cases``, generated inside PostgreSQL (``generate_series``): a million cases in
    minutes instead of an hour of Python objects. PostgreSQL only. ``timelines``: each case also gets its
    timeline (``TIMELINE_STEPS``: nine events a closed case, five an open one), for the pages that read it."""
    from django.db import connection

    category = CaseCategory.objects.select_related("policy").get(code="termite")
    places = list(
        OrgUnit.objects.filter(kind__in=["community", "estate"]).values_list("pk", flat=True)[:5000]
    )
    start = Case.objects.filter(number__startswith="MB").count()
    made = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [seed])
        while made < count:
            size = min(chunk, count - made)
            first = start + made
            cursor.execute(
                CASES_SQL,
                {
                    "category": category.pk,
                    "places": places,
                    "n_places": len(places),
                    "first": first,
                    "last": first + size - 1,
                    "share": open_share,
                    "now": now,
                },
            )
            cursor.execute(
                CLOCKS_SQL,
                {
                    "policy": category.policy_id,
                    "low": f"MB{first:010d}",
                    "high": f"MB{first + size - 1:010d}",
                },
            )
            if timelines:
                kinds, froms, tos = (list(column) for column in zip(*TIMELINE_STEPS, strict=True))
                cursor.execute(
                    EVENTS_SQL,
                    {
                        "kinds": kinds,
                        "froms": froms,
                        "tos": tos,
                        "open_steps": kinds.index("booked"),
                        "last_step": len(kinds) - 1,
                        "now": now,
                        "low": f"MB{first:010d}",
                        "high": f"MB{first + size - 1:010d}",
                    },
                )
            made += size
            if progress:
                progress(made)
    return made
