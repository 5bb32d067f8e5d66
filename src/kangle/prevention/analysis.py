"""Period analysis of warnings: count, 环比 and 同比, breakdowns, clusters, trend, and the Chinese brief.

Everything is aggregated in SQL over ``Warning`` (filtered by the indexed ``org_path`` prefix and
``occurred_at`` range): one query for the three period counts, one per breakdown. Periods are whole local
days, both ends included.
"""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass, field
from operator import itemgetter

from django.db import connection
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from kangle.core.errors import UserError
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.selectors import subtree_q
from kangle.prevention.models import PLACE_NAMES_ZH, PlaceType, Warning
from kangle.prevention.spraying import sprayed_estates

MAX_PERIOD_DAYS = 3660
MAX_CLUSTERS = 400
TOP_COMMUNITIES = 30


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # included

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """环比: the period of equal length just before."""
        return Period(self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1))

    def last_year(self) -> Period:
        """同比: the same dates a year earlier (29 February becomes the 28th)."""
        return Period(_year_back(self.start), _year_back(self.end))

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """Aware local midnight at the start, and midnight after the last day (exclusive)."""
        start = timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))
        end = timezone.make_aware(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min))
        return start, end

    def q(self, field_name: str = "occurred_at") -> Q:
        start, end = self.bounds()
        return Q(**{f"{field_name}__gte": start, f"{field_name}__lt": end})

    def label(self) -> str:
        if self.start == self.end:
            return _zh_date(self.start)
        return f"{_zh_date(self.start)}至{_zh_date(self.end)}"


def _zh_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _year_back(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _parse_day(value, *, field_name: str, zh: str, en: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        raise UserError(f"blank_{field_name}", f"请填写{zh}", f"{en} is required", field=field_name)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(
            f"invalid_{field_name}",
            f"{zh}格式不正确，应为 年-月-日（如 2026-05-01）",
            f"{en} must be a date as YYYY-MM-DD",
            field=field_name,
        ) from None


def parse_period(start, end) -> Period:
    """A period from two dates (ISO strings or dates), with clear messages for bad input."""
    first = _parse_day(start, field_name="start", zh="开始日期", en="Start date")
    last = _parse_day(end, field_name="end", zh="结束日期", en="End date")
    if last < first:
        raise UserError(
            "end_before_start",
            f"结束日期（{last}）早于开始日期（{first}）",
            f"The end date ({last}) is before the start date ({first})",
            field="end",
        )
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise UserError(
            "period_too_long",
            f"统计周期不能超过 {MAX_PERIOD_DAYS} 天",
            f"A period cannot be longer than {MAX_PERIOD_DAYS} days",
            field="end",
        )
    return Period(first, last)


@dataclass
class Change:
    """A change against an earlier period: ``pct`` is None when there is nothing to compare with."""

    current: int
    earlier: int

    @property
    def comparable(self) -> bool:
        return self.earlier > 0

    @property
    def pct(self) -> int | None:
        if not self.comparable:
            return None
        return round((self.current - self.earlier) * 100 / self.earlier)

    @property
    def direction(self) -> str:
        if self.pct is None:
            return "none"
        if self.pct > 0:
            return "up"
        if self.pct < 0:
            return "down"
        return "flat"

    def zh(self, name: str) -> str:
        """环比下降30% / 同比上升5% / 环比持平 / 环比无可比数据."""
        pct = self.pct
        if pct is None:
            return f"{name}无可比数据"
        if pct > 0:
            return f"{name}上升{pct}%"
        if pct < 0:
            return f"{name}下降{-pct}%"
        return f"{name}持平"

    def as_dict(self) -> dict:
        return {
            "current": self.current,
            "earlier": self.earlier,
            "pct": self.pct,
            "direction": self.direction,
        }


@dataclass
class Analysis:
    org: OrgUnit | None
    period: Period
    count: int
    mom: Change  # 环比
    yoy: Change  # 同比
    by_place: list[tuple[str, int]]
    by_community: list[tuple[int | None, str, int]]
    trend: list[tuple[str, int]]
    trend_unit: str
    clusters: list[tuple[float, float, int]]
    without_coordinates: int
    brief: str = field(default="")
    # Estates whose green belts were sprayed in the period (code, name, times, last): the map's layer.
    sprayed: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "org": self.org.code if self.org else None,
            "org_name": self.org.name if self.org else "",
            "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(),
            "days": self.period.days,
            "count": self.count,
            "previous": {
                "start": self.period.previous().start.isoformat(),
                "end": self.period.previous().end.isoformat(),
                **self.mom.as_dict(),
            },
            "last_year": {
                "start": self.period.last_year().start.isoformat(),
                "end": self.period.last_year().end.isoformat(),
                **self.yoy.as_dict(),
            },
            "by_place_type": [
                {
                    "place_type": key,
                    "name": str(PlaceType(key).label),
                    "name_zh": PLACE_NAMES_ZH[key],
                    "count": n,
                }
                for key, n in self.by_place
            ],
            "by_community": [
                {"community_id": pk, "name": name, "count": n} for pk, name, n in self.by_community
            ],
            "trend_unit": self.trend_unit,
            "trend": [{"bucket": bucket, "count": n} for bucket, n in self.trend],
            "clusters": [{"latitude": lat, "longitude": lng, "count": n} for lat, lng, n in self.clusters],
            "without_coordinates": self.without_coordinates,
            "sprayed_estates": len(self.sprayed),
            "sprayed": [
                {
                    "code": row["code"],
                    "name": row["name"],
                    "times": row["times"],
                    "last": row["last"].isoformat(),
                }
                for row in self.sprayed
            ],
            "brief": self.brief,
        }


def cluster_scale(org: OrgUnit | None) -> int:
    """Cells of the cluster map: ~1 km (0.01°) for a district or more, ~100 m (0.001°) below."""
    return 100 if org is None or org.kind == OrgKind.DISTRICT else 1000


def warnings_under(org: OrgUnit | None) -> QuerySet[Warning]:
    """Warnings under ``org`` (None: everything, for a superuser) — the indexed path prefix."""
    queryset = Warning.objects.all()
    if org is not None:
        queryset = queryset.filter(subtree_q(org.path, "org_path"))
    return queryset


def analyse(org: OrgUnit | None, period: Period) -> Analysis:
    base = warnings_under(org)
    previous, last_year = period.previous(), period.last_year()
    # Three range counts rather than one OR: each is an index-only scan of the covering index.
    counts = {
        "current": base.filter(period.q()).count(),
        "previous": base.filter(previous.q()).count(),
        "last_year": base.filter(last_year.q()).count(),
    }
    current = base.filter(period.q())
    trend_unit, trunc = _trend_unit(period)
    scale = cluster_scale(org)
    if connection.vendor == "postgresql":
        places, community_rows, trend_rows, cluster_rows = _groups_in_one_pass(current, trend_unit, scale)
    else:
        places, community_rows, trend_rows, cluster_rows = _groups(current, trunc, scale)
    by_place = sorted(((key, places.get(key, 0)) for key in PlaceType.values), key=lambda item: -item[1])
    community_rows = sorted(community_rows, key=itemgetter(1), reverse=True)
    names = dict(
        OrgUnit.objects.filter(pk__in=[pk for pk, _ in community_rows[:TOP_COMMUNITIES] if pk]).values_list(
            "pk", "name"
        )
    )
    by_community = [(pk, names.get(pk, "—"), n) for pk, n in community_rows[:TOP_COMMUNITIES]]
    rest = sum(n for _, n in community_rows[TOP_COMMUNITIES:])
    if rest:
        by_community.append((None, "其他居民区", rest))
    trend = [(label, trend_rows.get(day, 0)) for day, label in _buckets(period, trend_unit)]
    top = heapq.nlargest(MAX_CLUSTERS, cluster_rows, key=itemgetter(2))
    clusters = [(lat / scale, lng / scale, n) for lat, lng, n in top]
    located_total = sum(n for *_, n in clusters)
    count = counts["current"]
    result = Analysis(
        org=org,
        period=period,
        count=count,
        mom=Change(count, counts["previous"]),
        yoy=Change(count, counts["last_year"]),
        by_place=by_place,
        by_community=by_community,
        trend=trend,
        trend_unit=trend_unit,
        clusters=clusters,
        without_coordinates=max(count - located_total, 0) if len(clusters) < MAX_CLUSTERS else 0,
        sprayed=sprayed_estates(org, *period.bounds()),
    )
    result.brief = brief_zh(result)
    return result


def _groups(current: QuerySet[Warning], trunc, scale: int):
    """The four breakdowns of the period's warnings, one GROUP BY each (any database)."""
    places = dict(current.order_by().values_list("place_type").annotate(n=Count("occurred_at")))
    communities = list(current.order_by().values_list("community_id").annotate(n=Count("occurred_at")))
    bucket = F("occurred_on") if trunc is None else trunc("occurred_on")
    trend = {
        _as_date(key): n
        for key, n in current.order_by()
        .annotate(bucket=bucket)
        .values_list("bucket")
        .annotate(n=Count("occurred_at"))
    }
    cells = (F("cell_lat"), F("cell_lng")) if scale == 1000 else (F("cell_lat") / 10, F("cell_lng") / 10)
    clusters = list(
        current.filter(cell_lat__isnull=False, cell_lng__isnull=False)
        .order_by()
        .annotate(lat=cells[0], lng=cells[1])
        .values_list("lat", "lng")
        .annotate(n=Count("occurred_at"))
    )
    return places, communities, trend, clusters


def _groups_in_one_pass(current: QuerySet[Warning], trend_unit: str, scale: int):
    """The same four breakdowns from one scan, with GROUPING SETS (PostgreSQL).

    The period's rows come from the ORM's own query (scope and time filters), so the planner still answers
    it with an index-only scan of the covering index; the grouping is one hash aggregate over them.
    """
    rows_sql, params = (
        current.order_by().values("place_type", "community_id", "occurred_on", "cell_lat", "cell_lng").query
    ).sql_with_params()
    bucket = {"day": "occurred_on", "week": "date_trunc('week', occurred_on)::date"}.get(
        trend_unit, "date_trunc('month', occurred_on)::date"
    )
    divisor = "" if scale == 1000 else " / 10"
    # Only fixed fragments are interpolated (the bucket and divisor above, and the ORM's compiled SQL); every
    # value travels in ``params``.
    columns = (
        f"place_type, community_id, {bucket} AS bucket, cell_lat{divisor} AS lat, cell_lng{divisor} AS lng"
    )
    inner = f"SELECT {columns} FROM ({rows_sql}) AS period_rows"  # noqa: S608
    head = "SELECT GROUPING(place_type), GROUPING(community_id), GROUPING(bucket), place_type, community_id,"
    sets = "GROUP BY GROUPING SETS ((place_type), (community_id), (bucket), (lat, lng))"
    sql = f"{head} bucket, lat, lng, COUNT(*) FROM ({inner}) AS cells {sets}"  # noqa: S608
    places, communities, trend, clusters = {}, [], {}, []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for g_place, g_community, g_bucket, place, community, day, lat, lng, n in cursor.fetchall():
            if not g_place:
                places[place] = n
            elif not g_community:
                communities.append((community, n))
            elif not g_bucket:
                trend[_as_date(day)] = n
            elif lat is not None and lng is not None:
                clusters.append((lat, lng, n))
    return places, communities, trend, clusters


def _trend_unit(period: Period):
    if period.days <= 92:
        return "day", None
    if period.days <= 731:
        return "week", TruncWeek
    return "month", TruncMonth


def _as_date(key) -> dt.date:
    if isinstance(key, dt.datetime):
        return timezone.localtime(key).date() if timezone.is_aware(key) else key.date()
    if isinstance(key, str):
        return dt.date.fromisoformat(key[:10])
    return key


def _buckets(period: Period, unit: str) -> list[tuple[dt.date, str]]:
    out = []
    if unit == "day":
        day = period.start
        while day <= period.end:
            out.append((day, day.isoformat()))
            day += dt.timedelta(days=1)
    elif unit == "week":
        day = period.start - dt.timedelta(days=period.start.weekday())
        while day <= period.end:
            out.append((day, day.isoformat()))
            day += dt.timedelta(days=7)
    else:
        day = period.start.replace(day=1)
        while day <= period.end:
            out.append((day, f"{day:%Y-%m}"))
            day = (day + dt.timedelta(days=32)).replace(day=1)
    return out


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return "、".join(names[:-1]) + "和" + names[-1]


def brief_zh(result: Analysis) -> str:
    """The brief in the article's style, worded from the numbers.

    "{时段}，{节点}共收到白蚁预警105例，环比下降30%，同比…，其中绝大多数（90%）集中在老旧房屋和绿化地带。"
    The leading place type is named, and the second one too when the first is below 80% and the second
    has at least 20%; the quantifier follows their combined share: 全部 (100%), 绝大多数 (≥ 80%),
    多数 (> 50%), else "…相对较多（合计x%，未过半）". With no earlier data the change reads "无可比数据".
    """
    text = _warnings_zh(result)
    if result.sprayed:
        text += f"期间组织专业人员对{len(result.sprayed)}个小区绿化带喷洒药水，斩断病媒传播链。"
    return text


def _warnings_zh(result: Analysis) -> str:
    where = result.org.name if result.org else "全市"
    head = f"{result.period.label()}，{where}共收到白蚁预警{result.count}例"
    parts = [head, result.mom.zh("环比"), result.yoy.zh("同比")]
    text = "，".join(parts)
    if result.count == 0:
        return text + "。"
    ranked = [(key, n) for key, n in result.by_place if n > 0]
    leading = ranked[:1]
    # A second place type is named when the first is not already ≥ 80% and the second is ≥ 20%.
    if len(ranked) > 1 and ranked[0][1] * 100 < 80 * result.count and ranked[1][1] * 100 >= 20 * result.count:
        leading = ranked[:2]
    covered = sum(n for _, n in leading)
    names = _join([PLACE_NAMES_ZH[key] for key, _ in leading])
    share = round(covered * 100 / result.count)
    if covered == result.count:
        tail = f"其中全部集中在{names}"
    elif covered * 100 >= 80 * result.count:
        tail = f"其中绝大多数（{share}%）集中在{names}"
    elif covered * 2 > result.count:
        tail = f"其中多数（{share}%）集中在{names}"
    else:
        tail = f"其中{names}相对较多（合计{share}%，未过半）"
    return f"{text}，{tail}。"
