"""The organisation tree: 徐汇区 with 康健街道 (康乐吾家) and 湖南街道 (民情快办), and at larger scales
many synthetic streets and districts. Inserted in bulk, level by level, with paths built from codes."""

from __future__ import annotations

from decimal import Decimal

from kangle.orgs.models import EstateType, OrgKind, OrgUnit, RegistrationPoint, Venue, VenueKind
from kangle.orgs.services import build_path

KJ_AREAS = ["第一片区", "第二片区", "第三片区", "第四片区"]
KJ_COMMUNITIES = [
    "康乐",
    "康健",
    "寿益",
    "长陆",
    "桂林苑",
    "茶花",
    "康城",
    "南方",
    "锦江",
    "园南",
    "康泰",
    "汇成",
    "康宁",
    "虹梅",
    "樱花",
    "银杏",
    "丁香",
    "紫薇",
    "玉兰",
    "海棠",
    "菊园",
    "梅园",
    "竹园",
    "松园",
    "柳园",
]
HN_AREAS = ["衡山片区", "复兴片区", "武康片区"]
HN_COMMUNITIES = ["武康", "湖南", "五原", "永嘉", "复中", "兴国", "淮海", "东湖", "宛平", "高安"]
ROADS = ["康健路", "桂林路", "田林路", "宜山路", "钦州路", "漕宝路", "虹漕路", "罗城路"]
HN_ROADS = ["武康路", "湖南路", "五原路", "永嘉路", "复兴西路", "兴国路", "安福路", "淮海中路"]
# Centre of each street for plausible coordinates on the map (approximate, WGS-84).
KJ_CENTRE = (Decimal("31.1640"), Decimal("121.4230"))
HN_CENTRE = (Decimal("31.2080"), Decimal("121.4420"))


class TreeBuilder:
    """Collects units by depth, then inserts each depth with one bulk_create."""

    def __init__(self):
        self.levels: dict[int, list[OrgUnit]] = {}

    def add(self, parent: OrgUnit | None, kind: str, code: str, name: str, **extra) -> OrgUnit:
        unit = OrgUnit(
            kind=kind,
            code=code,
            name=name,
            parent=parent,
            path=build_path(parent, code),
            depth=(parent.depth + 1) if parent else 0,
            **extra,
        )
        self.levels.setdefault(unit.depth, []).append(unit)
        return unit

    def save(self) -> int:
        total = 0
        for depth in sorted(self.levels):
            units = self.levels[depth]
            for unit in units:
                if unit.parent is not None:
                    unit.parent_id = unit.parent.pk  # parent was saved one level earlier
            OrgUnit.objects.bulk_create(units, batch_size=2000)
            total += len(units)
        return total


def _jitter(ctx, centre: tuple[Decimal, Decimal]) -> tuple[Decimal, Decimal]:
    return (
        (centre[0] + Decimal(ctx.rng.uniform(-0.008, 0.008))).quantize(Decimal("0.000001")),
        (centre[1] + Decimal(ctx.rng.uniform(-0.008, 0.008))).quantize(Decimal("0.000001")),
    )


def _below_community(
    tree: TreeBuilder, ctx, community: OrgUnit, *, estates: int, grids: int, micro: int, groups: int
):
    for e in range(1, estates + 1):
        estate = tree.add(
            community,
            OrgKind.ESTATE,
            f"{community.code}-E{e}",
            f"{community.name}{e}小区",
            estate_type=EstateType.ESTATE,
        )
        for g in range(1, grids + 1):
            grid = tree.add(estate, OrgKind.GRID, f"{estate.code}-G{g}", f"{estate.name}第{g}网格")
            for m in range(1, micro + 1):
                microgrid = tree.add(grid, OrgKind.MICROGRID, f"{grid.code}-M{m}", f"{grid.name}{m}号微网格")
                for b in range(1, groups + 1):
                    tree.add(
                        microgrid,
                        OrgKind.BUILDING_GROUP,
                        f"{microgrid.code}-B{b}",
                        f"{estate.name}{(m - 1) * groups + b}号楼组",
                    )


def _kangjian(tree: TreeBuilder, ctx, district: OrgUnit) -> OrgUnit:
    street = tree.add(district, OrgKind.STREET, "XH-KJ", "康健街道")
    ctx.refs["street:KJ"] = street
    index = 0
    for a, area_name in enumerate(KJ_AREAS, start=1):
        area = tree.add(street, OrgKind.AREA, f"KJ-A{a}", area_name, sort_order=a)
        ctx.refs[f"area:KJ-A{a}"] = area
        # 25 communities over 4 areas: 7, 6, 6, 6.
        for _ in range(7 if a == 1 else 6):
            index += 1
            code = f"KJ-C{index:02d}"
            community = tree.add(
                area, OrgKind.COMMUNITY, code, f"{KJ_COMMUNITIES[index - 1]}居民区", sort_order=index
            )
            ctx.refs[f"community:{code}"] = community
            _below_community(
                tree,
                ctx,
                community,
                estates=ctx.rng.randint(2, 3),
                grids=ctx.rng.randint(1, 2),
                micro=ctx.rng.randint(2, 3),
                groups=ctx.rng.randint(2, 4),
            )
    return street


def _hunan(tree: TreeBuilder, ctx, district: OrgUnit) -> OrgUnit:
    """湖南街道: 89 residential estates and 224 lanes, the article's inspection campaign."""
    street = tree.add(district, OrgKind.STREET, "XH-HN", "湖南街道")
    ctx.refs["street:HN"] = street
    communities = []
    for a, area_name in enumerate(HN_AREAS, start=1):
        area = tree.add(street, OrgKind.AREA, f"HN-A{a}", area_name, sort_order=a)
        ctx.refs[f"area:HN-A{a}"] = area
        for _ in range(1, 5 if a == 1 else 4):
            number = len(communities) + 1
            community = tree.add(
                area,
                OrgKind.COMMUNITY,
                f"HN-C{number:02d}",
                f"{HN_COMMUNITIES[number - 1]}居民区",
                sort_order=number,
            )
            ctx.refs[f"community:HN-C{number:02d}"] = community
            communities.append(community)
    for n in range(89):
        community = communities[n % len(communities)]
        tree.add(
            community,
            OrgKind.ESTATE,
            f"{community.code}-E{n // len(communities) + 1}",
            f"{HN_ROADS[n % len(HN_ROADS)].removesuffix('路')}{n // len(communities) + 1}号小区",
            estate_type=EstateType.ESTATE,
        )
    for n in range(224):
        community = communities[n % len(communities)]
        road = HN_ROADS[(n * 3) % len(HN_ROADS)]
        tree.add(
            community,
            OrgKind.ESTATE,
            f"{community.code}-L{n // len(communities) + 1}",
            f"{road}{(n * 7) % 1200 + 1}弄",
            estate_type=EstateType.LANE,
        )
    for community in communities:
        grid = tree.add(community, OrgKind.GRID, f"{community.code}-G1", f"{community.name}网格")
        tree.add(grid, OrgKind.MICROGRID, f"{grid.code}-M1", f"{community.name}1号微网格")
    return street


def _synthetic_street(
    tree: TreeBuilder, ctx, district: OrgUnit, code: str, name: str, *, areas: int, communities: int
):
    street = tree.add(district, OrgKind.STREET, code, name)
    for a in range(1, areas + 1):
        area = tree.add(street, OrgKind.AREA, f"{code}-A{a}", f"{name}第{a}片区")
        for c in range(1, communities + 1):
            community = tree.add(area, OrgKind.COMMUNITY, f"{code}-A{a}-C{c}", f"{name}{a}-{c}居民区")
            _below_community(tree, ctx, community, estates=2, grids=1, micro=2, groups=0)
    return street


def _venues_and_points(ctx) -> tuple[int, int]:
    street, hunan = ctx.refs["street:KJ"], ctx.refs["street:HN"]
    venues, points = [], []

    def venue(org, kind, name, address, centre):
        lat, lng = _jitter(ctx, centre)
        item = Venue(
            org=org,
            kind=kind,
            name=name,
            address=address,
            latitude=lat,
            longitude=lng,
            opening_hours="周一至周六 9:00–17:00",
        )
        venues.append(item)
        return item

    centre_hall = venue(street, VenueKind.SERVICE_CENTRE, "康健街道党群服务中心", "康健路 280 号", KJ_CENTRE)
    living_room = venue(street, VenueKind.LIVING_ROOM, "康乐会客厅", "康健路 188 号", KJ_CENTRE)
    ctx.refs["venue:living_room"] = living_room
    areas = [ctx.refs[f"area:KJ-A{a}"] for a in range(1, 5)]
    area_stations = [
        venue(
            area, VenueKind.WORKSTATION, f"{area.name}党群服务站", f"{ROADS[i]} {100 + i * 20} 号", KJ_CENTRE
        )
        for i, area in enumerate(areas)
    ]
    communities = [ctx.refs[f"community:KJ-C{i:02d}"] for i in range(1, 26)]
    community_venues = []
    for i, community in enumerate(communities):
        road = ROADS[i % len(ROADS)]
        community_venues.append(
            venue(
                community,
                VenueKind.SERVICE_CENTRE,
                f"{community.name}党群服务站",
                f"{road} {300 + i * 11} 弄",
                KJ_CENTRE,
            )
        )
        if i % 5 == 0:
            pavilion = venue(
                community,
                VenueKind.LEIFENG_PAVILION,
                f"{community.name}雷锋亭",
                f"{road} {310 + i * 11} 弄口",
                KJ_CENTRE,
            )
            ctx.refs.setdefault("venue:leifeng", pavilion)
    for a in range(1, 4):
        area = ctx.refs[f"area:HN-A{a}"]
        station = venue(
            area,
            VenueKind.WORKSTATION,
            f"{area.name}民情快办工作站",
            f"{HN_ROADS[a]} {50 + a * 30} 号",
            HN_CENTRE,
        )
        ctx.refs[f"venue:HN-A{a}"] = station
    venue(hunan, VenueKind.SERVICE_CENTRE, "湖南街道党群服务中心", "武康路 100 号", HN_CENTRE)
    Venue.objects.bulk_create(venues)

    # 30 registration points: 2 at the street, 1 per area, 24 at communities (as in the article).
    points.append(
        RegistrationPoint(org=street, code="KJ-P01", name="街道党群服务中心报到点", venue=centre_hall)
    )
    points.append(RegistrationPoint(org=street, code="KJ-P02", name="康乐会客厅报到点", venue=living_room))
    for i, (area, station) in enumerate(zip(areas, area_stations, strict=True), start=3):
        points.append(
            RegistrationPoint(org=area, code=f"KJ-P{i:02d}", name=f"{area.name}报到点", venue=station)
        )
    for i, (community, place) in enumerate(
        zip(communities[:24], community_venues[:24], strict=True), start=7
    ):
        points.append(
            RegistrationPoint(org=community, code=f"KJ-P{i:02d}", name=f"{community.name}报到点", venue=place)
        )
    RegistrationPoint.objects.bulk_create(points)
    return len(venues), len(points)


def build(ctx) -> None:
    tree = TreeBuilder()
    district = tree.add(None, OrgKind.DISTRICT, "XH", "徐汇区")
    ctx.refs["district:XH"] = district
    _kangjian(tree, ctx, district)
    _hunan(tree, ctx, district)
    if ctx.scale in ("district", "city"):
        for s in range(1, 12):
            _synthetic_street(tree, ctx, district, f"XH-S{s:02d}", f"徐汇第{s}街道", areas=4, communities=6)
    if ctx.scale == "city":
        # 15 more districts of 15 streets × 4 areas × 7 communities: 6,300 communities, plus 徐汇区's.
        city = [f"D{d:02d}" for d in range(1, 16)]
        for code in city:
            other = tree.add(None, OrgKind.DISTRICT, code, f"示例{code}区")
            for s in range(1, 16):
                _synthetic_street(
                    tree, ctx, other, f"{code}-S{s:02d}", f"{other.name}第{s}街道", areas=4, communities=7
                )
    ctx.summary["org_units"] = tree.save()
    ctx.summary["venues"], ctx.summary["registration_points"] = _venues_and_points(ctx)
