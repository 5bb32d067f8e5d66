"""Demo of the loops the article closes: the care-home fire drill (平安守护) with its plan, observers,
timings, findings and the micro fire station contest; a round of green-belt spraying over old estates; and
a case reworked after the resident was not satisfied, on its own rework clock.

All through the services, so every row is what the product itself would have written. The care home's name
is invented."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from kangle.cases import services as case_services
from kangle.cases.models import CaseCategory, Channel
from kangle.core.uploads import ValidatedImage
from kangle.drills import services as drills
from kangle.drills.models import Mobility, TeamKind
from kangle.orgs.models import EstateType, OrgKind, OrgUnit, Venue, VenueKind
from kangle.prevention import services as prevention
from kangle.prevention.models import TeamRole
from kangle.prevention.spraying import spraying_record

SH = ZoneInfo("Asia/Shanghai")
DRILL_DAY = dt.date(2026, 6, 18)


def _at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SH)


def _photo(colour: tuple[int, int, int]) -> ValidatedImage:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), colour).save(buffer, format="PNG")
    return ValidatedImage(content=buffer.getvalue(), content_type="image/png", extension="png")


def _drill(ctx) -> None:
    """6月18日 the article's drill: alarm, the communications team calls the fire service, the micro fire
    station fights the fire first, social workers and carers lead residents out with wet towels, those who
    cannot walk are moved by stretcher and wheelchair, medical staff stand by; a contest follows."""
    admin = ctx.refs["user:kj_admin"]
    street = ctx.refs["street:KJ"]
    venue = Venue.objects.create(
        org=street, kind=VenueKind.CARE_HOME, name="康健长者照护中心（演示）", address="康健路 120 号"
    )
    before = _at(DRILL_DAY, 8)
    plan = _drill_plan(admin, venue, before)
    drill = drills.drill_record(
        actor=admin,
        plan=plan,
        held_on=DRILL_DAY,
        observers=[
            ("civil_affairs", "区民政局"),
            ("emergency", "区应急管理局"),
            ("fire", "区消防救援局"),
            ("street", "各街镇主要负责人"),
        ],
        now=before,
    )
    alarm = _at(DRILL_DAY, 9, 30)
    drills.drill_set_timings(
        actor=admin,
        drill=drill,
        alarm_at=alarm,
        first_response_at=alarm + dt.timedelta(seconds=55),
        last_out_at=alarm + dt.timedelta(minutes=7, seconds=40),
        roll_call_at=alarm + dt.timedelta(minutes=9, seconds=10),
        now=_at(DRILL_DAY, 11),
    )
    _drill_findings_and_contest(admin, drill)
    ctx.summary["drills"] = 1


def _drill_plan(admin, venue: Venue, before: dt.datetime):
    """The care home's register and its evacuation plan, written the morning before the drill."""
    home = drills.care_home_save(
        actor=admin, venue=venue, walks=46, needs_help=22, wheelchair=14, stretcher=6, now=before
    )
    groups = {
        key: drills.resident_group_create(
            actor=admin, home=home, name=name, mobility=mobility, count=count, now=before
        )
        for key, name, mobility, count in [
            ("stretcher", "二楼护理区卧床长者", Mobility.STRETCHER, 6),
            ("wheelchair", "二楼、三楼轮椅长者", Mobility.WHEELCHAIR, 14),
            ("help", "三楼需搀扶长者", Mobility.NEEDS_HELP, 22),
            ("walks", "一楼、三楼自理长者", Mobility.WALKS, 46),
        ]
    }
    plan = drills.plan_create(
        actor=admin,
        home=home,
        title="养老机构火灾应急疏散预案",
        scenario="二楼配电间突发火灾，烟雾沿走廊扩散",
        teams=[
            (TeamKind.COMMS, "值班主任", "值班室 2 人：拨打 119，向街道和民政局报告"),
            (TeamKind.MICRO_STATION, "微型消防站站长", "队员 4 人：初期扑救"),
            (TeamKind.ESCORT, "社工部主任", "社工 3 人、护理员 10 人：湿毛巾捂口鼻，经安全通道撤离"),
            (TeamKind.MEDICAL, "驻院医生", "医生 1 人、护士 2 人：安全区待命救治"),
        ],
        now=before,
    )
    escort = plan.teams.get(kind=TeamKind.ESCORT)
    for person, group, route in [
        ("护理员（担架组，4 人）", "stretcher", "二楼东侧安全通道 → 东侧楼梯 → 前院安全区"),
        ("护理员（轮椅组，4 人）", "wheelchair", "无障碍坡道 → 西侧出口 → 前院安全区"),
        ("社工（2 人）", "help", "三楼西侧楼梯 → 西侧出口 → 前院安全区"),
        ("社工（1 人）、志愿者", "walks", "就近安全出口 → 前院安全区"),
    ]:
        drills.assignment_add(
            actor=admin, plan=plan, team=escort, person=person, group=groups[group], route=route, now=before
        )
    return plan


def _drill_findings_and_contest(admin, drill) -> None:
    """What the observers found, with follow-ups, and the fire-fighting contest that followed."""
    drills.finding_add(
        actor=admin,
        drill=drill,
        text="担架组经东侧楼梯转角时调整方向耗时较长，最后一位卧床长者撤出用时偏长",
        follow_ups=[
            ("增配折叠式疏散担架两副，并在转角处加装扶手", "院长", DRILL_DAY + dt.timedelta(days=30)),
            ("每季度组织一次担架转移专项训练", "护理部主任", DRILL_DAY + dt.timedelta(days=90)),
        ],
        now=_at(DRILL_DAY, 11),
    )
    drills.finding_add(
        actor=admin,
        drill=drill,
        text="部分自理长者未及时用湿毛巾捂住口鼻",
        follow_ups=[
            (
                "在各楼层护理站配备湿毛巾桶，并每月开展一次演示",
                "社工部主任",
                DRILL_DAY + dt.timedelta(days=14),
            )
        ],
        now=_at(DRILL_DAY, 11),
    )
    for event, results in [
        ("穿着战斗服", [("康健长者照护中心微型消防站", "48.6"), ("区内养老机构联队", "52.3")]),
        ("一带一枪", [("区内养老机构联队", "31.9"), ("康健长者照护中心微型消防站", "35.2")]),
    ]:
        for rank, (team, seconds) in enumerate(results, start=1):
            drills.contest_result_add(
                actor=admin,
                drill=drill,
                team=team,
                event=event,
                seconds=seconds,
                rank=rank,
                now=_at(DRILL_DAY, 11, 30),
            )


def _spraying(ctx) -> None:
    """Old estates with brick-and-timber houses: their green belts sprayed in June by the termite contractor."""
    street = ctx.refs["street:HN"]
    admin, technician = ctx.refs["user:hn_admin"], ctx.refs["user:hn_contractor"]
    contractor = ctx.refs["contractor:termite"]
    estates = list(
        OrgUnit.objects.filter(
            path__startswith=street.path, kind=OrgKind.ESTATE, estate_type=EstateType.ESTATE
        ).order_by("code")[:12]
    )
    campaign = prevention.campaign_create(
        actor=admin,
        name="2026年老旧小区绿化带预防性喷药",
        org=street,
        starts_on=dt.date(2026, 6, 3),
        ends_on=dt.date(2026, 6, 20),
        units=estates,
        team=[(TeamRole.AREA_OFFICE, "片区工作站"), (TeamRole.CONTRACTOR, contractor.name)],
        contractor=contractor,
        now=_at(dt.date(2026, 6, 2), 9),
    )
    photo = _photo((70, 130, 60))
    for index, estate in enumerate(estates):
        moment = _at(dt.date(2026, 6, 3) + dt.timedelta(days=index // 3), 9 + index % 3 * 2)
        spraying_record(
            actor=technician,
            campaign=campaign,
            unit=estate,
            sprayed_at=moment,
            agent="联苯菊酯悬浮剂（稀释 500 倍）",
            note="小区绿化带及砖木结构房屋墙根",
            photos=[photo],
            now=moment + dt.timedelta(hours=1),
        )
    prevention.campaign_close(actor=admin, campaign=campaign, now=_at(dt.date(2026, 6, 20), 18))
    ctx.summary["sprayed_estates"] = len(estates)


def _reworked_case(ctx) -> None:
    """A termite case closed, then reopened by the desk when the resident called back: the rework clock
    starts, the contractor comes back and finishes in time."""
    desk, worker = ctx.refs["user:hn_desk"], ctx.refs["user:hn_contractor"]
    area = ctx.refs["area:HN-A3"]
    estate = OrgUnit.objects.filter(path__startswith=area.path, kind=OrgKind.ESTATE).order_by("code").first()
    termite = CaseCategory.objects.get(code="termite")
    photo = _photo((90, 90, 90))
    day = dt.date(2026, 6, 22)
    case = case_services.case_report(
        actor=desk,
        category=termite,
        org=estate,
        channel=Channel.PHONE_CALL,
        title="木地板下发现白蚁蛀道",
        description="居民来电：卧室木地板踩上去发空，缝隙有泥线。",
        resident_name=ctx.faker.name(),
        phone=f"139{ctx.rng.randint(10000000, 99999999)}",
        address=f"{estate.name} 5 号 102 室",
        now=_at(day, 9),
    )
    case_services.case_accept(actor=desk, case=case, now=_at(day, 9, 10))
    case_services.case_dispatch(
        actor=desk, case=case, contractor=ctx.refs["contractor:termite"], now=_at(day, 9, 15)
    )
    case_services.case_contractor_accept(actor=worker, case=case, now=_at(day, 9, 30))
    case_services.case_book(
        actor=worker, case=case, slot_start=_at(day, 14), slot_end=_at(day, 16), now=_at(day, 9, 40)
    )
    case_services.case_check_in(actor=worker, case=case, photos=[photo], now=_at(day, 14, 5))
    case_services.case_finish(actor=worker, case=case, note="已对地板下蚁道施药", now=_at(day, 16))
    case_services.case_close(
        actor=desk, case=case, note="居民电话回访满意", now=_at(day + dt.timedelta(days=1), 10)
    )
    later = day + dt.timedelta(days=5)
    case_services.case_rework(
        actor=desk, case=case, reason="居民来电：卧室仍有飞蚁，要求再次处理", now=_at(later, 10)
    )
    case_services.case_book(
        actor=worker, case=case, slot_start=_at(later, 15), slot_end=_at(later, 17), now=_at(later, 10, 30)
    )
    case_services.case_check_in(actor=worker, case=case, photos=[photo], now=_at(later, 15, 10))
    case_services.case_finish(actor=worker, case=case, note="找到主巢并灭治，清理现场", now=_at(later, 17))
    case_services.case_close(
        actor=desk, case=case, note="复查无白蚁活动", now=_at(later + dt.timedelta(days=1), 10)
    )
    ctx.refs["case:reworked"] = case


def build(ctx) -> None:
    _drill(ctx)
    _spraying(ctx)
    _reworked_case(ctx)
