"""湖南街道's termite prevention, recorded through the prevention and case services.

What the records add up to (the article's figures come out of the analysis, nothing is stored as a total):
- 6 bait stations at tree roots, read every Monday from March to June 2026;
- 1 May – 30 June 2026 (DEMO_PERIOD): 105 warnings — 12 positive readings, 20 residents' cases,
  15 nests found by the carpet inspection, 58 other patrol reports; mostly old houses and green belts;
- the 61 days before (1 March – 30 April): 150 warnings, so 环比 −30%;
- the same dates of 2025: 132 warnings (patrol records), so 同比 −20%;
- the June campaign over all 89 estates and 224 lanes with a five-organisation joint team; every one
  inspected; 15 nests found and treated on the spot, each a completed case.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

from PIL import Image

from kangle.cases import services as case_services
from kangle.cases.models import CaseCategory, Channel, Contractor
from kangle.core.uploads import ValidatedImage
from kangle.orgs.models import EstateType, OrgKind, OrgUnit
from kangle.prevention import services
from kangle.prevention.models import PlaceType, TeamRole

SH = ZoneInfo("Asia/Shanghai")
DEMO_PERIOD = (dt.date(2026, 5, 1), dt.date(2026, 6, 30))
PREVIOUS_PERIOD = (dt.date(2026, 3, 1), dt.date(2026, 4, 30))
LAST_YEAR_PERIOD = (dt.date(2025, 5, 1), dt.date(2025, 6, 30))
CENTRE = (Decimal("31.2080"), Decimal("121.4420"))

POINTS = [
    ("HN-MP01", "武康路梧桐树根诱饵站", "HN-C01", PlaceType.GREEN_BELT),
    ("HN-MP02", "湖南路香樟树根诱饵站", "HN-C02", PlaceType.GREEN_BELT),
    ("HN-MP03", "五原路绿地诱饵站", "HN-C03", PlaceType.GREEN_BELT),
    ("HN-MP04", "永嘉路老洋房庭院诱饵站", "HN-C04", PlaceType.OLD_HOUSE),
    ("HN-MP05", "复兴西路行道树诱饵站", "HN-C05", PlaceType.GREEN_BELT),
    ("HN-MP06", "兴国路弄堂口诱饵站", "HN-C06", PlaceType.OLD_HOUSE),
]
# Positive readings per period, of 6 points × 9 Mondays.
POSITIVE = {"previous": 18, "current": 12}
RESIDENT_CASES = {"previous": 30, "current": 20}
NESTS = 15
# Patrol reports by place type, so that each period's total is the article's.
PATROL = {
    "previous": {PlaceType.OLD_HOUSE: 48, PlaceType.GREEN_BELT: 36, PlaceType.SHOP: 10, PlaceType.OTHER: 8},
    "current": {PlaceType.OLD_HOUSE: 27, PlaceType.GREEN_BELT: 22, PlaceType.SHOP: 5, PlaceType.OTHER: 4},
    "last_year": {PlaceType.OLD_HOUSE: 70, PlaceType.GREEN_BELT: 44, PlaceType.SHOP: 11, PlaceType.OTHER: 7},
}
TEAM = [
    (TeamRole.AREA_OFFICE, "湖南街道各片区工作站"),
    (TeamRole.CITY_OPERATIONS, "湖南街道城市运行管理中心"),
    (TeamRole.CONSTRUCTION_CENTRE, "湖南街道社区建设管理中心"),
    (TeamRole.PROPERTY_COMPANY, "各小区物业服务企业"),
    (TeamRole.CONTRACTOR, "湖南街道白蚁防治专业队"),
]


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SH)


def _mondays(first: dt.date, last: dt.date) -> list[dt.date]:
    day = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    out = []
    while day <= last:
        out.append(day)
        day += dt.timedelta(days=7)
    return out


def _photo() -> ValidatedImage:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (120, 90, 40)).save(buffer, format="PNG")
    return ValidatedImage(content=buffer.getvalue(), content_type="image/png", extension="png")


class Places:
    """Community centres on the plane, and coordinates jittered around them (warnings cluster there)."""

    def __init__(self, ctx, communities: list[OrgUnit]):
        self.ctx = ctx
        self.centres = {}
        for index, community in enumerate(communities):
            self.centres[community.pk] = (
                CENTRE[0] + Decimal((index % 4) - 1.5) * Decimal("0.004"),
                CENTRE[1] + Decimal((index // 4) - 1) * Decimal("0.005"),
            )

    def near(self, community: OrgUnit) -> tuple[Decimal, Decimal]:
        lat, lng = self.centres[community.pk]
        q = Decimal("0.000001")
        return (
            (lat + Decimal(self.ctx.rng.uniform(-0.0012, 0.0012))).quantize(q),
            (lng + Decimal(self.ctx.rng.uniform(-0.0012, 0.0012))).quantize(q),
        )


def _moment_in(ctx, first: dt.date, last: dt.date) -> dt.datetime:
    day = first + dt.timedelta(days=ctx.rng.randrange((last - first).days + 1))
    return _at(day, ctx.rng.randint(8, 18), ctx.rng.randint(0, 59))


def _contractor(ctx, street: OrgUnit, termite: CaseCategory) -> Contractor:
    contractor = Contractor.objects.filter(org=street, categories=termite, is_active=True).first()
    if contractor is None:
        contractor = Contractor.objects.create(name="湖南街道白蚁防治专业队", org=street, priority=1)
        contractor.categories.add(termite)
    contractor.users.add(ctx.refs["user:hn_contractor"])
    return contractor


def build(ctx) -> None:
    street = ctx.refs["street:HN"]
    admin, inspector = ctx.refs["user:hn_admin"], ctx.refs["user:hn_contractor"]
    termite = CaseCategory.objects.get(code="termite")
    contractor = _contractor(ctx, street, termite)
    communities = list(
        OrgUnit.objects.filter(path__startswith=street.path, kind=OrgKind.COMMUNITY).order_by("code")
    )
    estates = {
        community.pk: list(OrgUnit.objects.filter(parent=community, kind=OrgKind.ESTATE).order_by("code"))
        for community in communities
    }
    places = Places(ctx, communities)
    photo = _photo()
    points = _monitoring_points(admin, communities, places)
    readings = _weekly_rounds(ctx, admin, inspector, street, points)
    cases = _resident_cases(ctx, admin, inspector, contractor, termite, communities, estates, places, photo)
    _patrol_reports(ctx, admin, communities, estates, places)
    campaign, units = _carpet_inspection(ctx, admin, inspector, street, contractor, places, photo)
    ctx.refs["campaign:HN"] = campaign
    ctx.summary["monitoring_points"] = len(points)
    ctx.summary["readings"] = readings
    ctx.summary["termite_cases"] = cases + NESTS
    ctx.summary["campaign_units"] = len(units)


def _monitoring_points(admin, communities: list[OrgUnit], places: Places) -> list:
    """The bait stations, installed on 20 February."""
    by_code = {community.code: community for community in communities}
    points = []
    for code, name, community_code, place_type in POINTS:
        community = by_code[community_code]
        lat, lng = places.near(community)
        points.append(
            services.point_create(
                actor=admin,
                code=code,
                name=name,
                org=community,
                latitude=lat,
                longitude=lng,
                place_type=place_type,
                device_type="地下诱饵站（埋于树根旁）",
                bait_type="氟铃脲饵剂",
                installed_on=dt.date(2026, 2, 20),
                now=_at(dt.date(2026, 2, 20), 10),
            )
        )
    return points


def _weekly_rounds(ctx, admin, inspector, street: OrgUnit, points: list) -> int:
    """A round every Monday of both periods reading every point; returns the number of readings."""
    readings = 0
    for period_name, (first, last) in (("previous", PREVIOUS_PERIOD), ("current", DEMO_PERIOD)):
        mondays = _mondays(first, last)
        slots = [(m, p) for m in range(len(mondays)) for p in range(len(points))]
        positive = set(ctx.rng.sample(slots, POSITIVE[period_name]))
        for m, monday in enumerate(mondays):
            inspection_round = services.round_open(
                actor=admin, org=street, name=f"{monday:%m月%d日} 监测点巡检", now=_at(monday, 8, 30)
            )
            for p, point in enumerate(points):
                hit = (m, p) in positive
                services.reading_record(
                    actor=inspector,
                    inspection_round=inspection_round,
                    point=point,
                    activity_found=hit,
                    bait_consumed_pct=ctx.rng.randint(35, 90) if hit else ctx.rng.randint(0, 15),
                    note="诱饵被取食，有蚁路" if hit else "",
                    now=_at(monday, 9, 10 * p),
                )
                readings += 1
            services.round_close(actor=admin, inspection_round=inspection_round, now=_at(monday, 11))
    return readings


def _resident_cases(ctx, admin, inspector, contractor, termite, communities, estates, places, photo) -> int:
    """Residents' termite cases, handled the same or next day, each a warning; returns how many."""
    cases = 0
    for period_name, (first, last) in (("previous", PREVIOUS_PERIOD), ("current", DEMO_PERIOD)):
        for _ in range(RESIDENT_CASES[period_name]):
            community = ctx.rng.choice(communities)
            estate = ctx.rng.choice(estates[community.pk] or [community])
            lat, lng = places.near(community)
            reported = _moment_in(ctx, first, last)
            case = case_services.case_report(
                actor=admin,
                category=termite,
                org=estate,
                channel=Channel.PHONE_CALL,
                title="家中发现白蚁",
                description="门框、地板有蛀痕，傍晚有飞蚁",
                resident_name=ctx.faker.name(),
                phone=f"138{ctx.rng.randint(10000000, 99999999)}",
                address=f"{estate.name}{ctx.rng.randint(1, 40)}号{ctx.rng.randint(101, 604)}室",
                latitude=lat,
                longitude=lng,
                now=reported,
            )
            _handle(case, admin, inspector, contractor, photo, reported)
            services.warning_from_case(actor=admin, case=case, place_type=PlaceType.OLD_HOUSE, now=reported)
            cases += 1
    return cases


def _patrol_reports(ctx, admin, communities, estates, places) -> None:
    """The grid patrols' reports of the three periods, by place type."""
    for period_name, (first, last) in (
        ("previous", PREVIOUS_PERIOD),
        ("current", DEMO_PERIOD),
        ("last_year", LAST_YEAR_PERIOD),
    ):
        for place_type, count in PATROL[period_name].items():
            for _ in range(count):
                community = ctx.rng.choice(communities)
                lat, lng = places.near(community)
                moment = _moment_in(ctx, first, last)
                services.warning_record(
                    actor=admin,
                    org=ctx.rng.choice(estates[community.pk] or [community]),
                    place_type=place_type,
                    occurred_at=moment,
                    latitude=lat,
                    longitude=lng,
                    description="网格巡查发现白蚁活动迹象",
                    now=moment,
                )


def _carpet_inspection(ctx, admin, inspector, street, contractor, places, photo):
    """The carpet inspection of June: every estate and lane, 15 nests treated on the spot; returns the
    closed campaign and its units."""
    units = list(services.estates_and_lanes(street))
    campaign = services.campaign_create(
        actor=admin,
        name="2026年白蚁防治地毯式巡查",
        org=street,
        starts_on=dt.date(2026, 6, 1),
        ends_on=dt.date(2026, 6, 30),
        units=units,
        team=TEAM,
        contractor=contractor,
        now=_at(dt.date(2026, 5, 28), 9),
    )
    lanes = [unit for unit in units if unit.estate_type == EstateType.LANE]
    nest_units = set(ctx.rng.sample([unit.pk for unit in lanes], 11)) | set(
        ctx.rng.sample([unit.pk for unit in units if unit.estate_type == EstateType.ESTATE], 4)
    )
    community_of = {unit.pk: unit.parent for unit in units}
    for index, unit in enumerate(units):
        day = dt.date(2026, 6, 1) + dt.timedelta(days=index * 29 // len(units))
        moment = _at(day, 9 + (index % 8), (index * 7) % 60)
        if unit.pk in nest_units:
            lat, lng = places.near(community_of[unit.pk])
            services.finding_record(
                actor=inspector,
                campaign=campaign,
                unit=unit,
                description="墙角木构件内发现白蚁巢，已现场灭治",
                place_type=PlaceType.OLD_HOUSE
                if unit.estate_type == EstateType.LANE
                else PlaceType.GREEN_BELT,
                nest_found=True,
                treated_on_spot=True,
                photos=[photo],
                latitude=lat,
                longitude=lng,
                now=moment,
            )
        else:
            services.campaign_mark_inspected(
                actor=inspector, campaign=campaign, unit=unit, note="未发现白蚁危害", now=moment
            )
    services.campaign_close(actor=admin, campaign=campaign, now=_at(dt.date(2026, 6, 30), 18))
    return campaign, units


def _handle(case, desk, technician, contractor, photo, reported: dt.datetime) -> None:
    """The article's pace: accepted and dispatched at once, visited within hours, done the same day."""
    step = dt.timedelta(minutes=20)
    case = case_services.case_accept(actor=desk, case=case, now=reported + step)
    case = case_services.case_dispatch(actor=desk, case=case, contractor=contractor, now=reported + 2 * step)
    case = case_services.case_contractor_accept(actor=technician, case=case, now=reported + 3 * step)
    visit = reported + dt.timedelta(hours=3)
    case_services.case_book(
        actor=technician,
        case=case,
        slot_start=visit,
        slot_end=visit + dt.timedelta(hours=1),
        now=reported + 4 * step,
    )
    case = case_services.case_check_in(actor=technician, case=case, photos=[photo], now=visit)
    case = case_services.case_finish(
        actor=technician, case=case, note="已定位蚁巢并灭治", now=visit + dt.timedelta(hours=2)
    )
    case_services.case_close(
        actor=desk, case=case, note="居民电话回访满意", now=visit + dt.timedelta(hours=20)
    )
