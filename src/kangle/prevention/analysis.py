"""Period analysis of warnings: count, 环比 and 同比, breakdowns, clusters, trend, and the brief (in the reader's language).

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
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, gettext_lazy, gettext_noop, pgettext

from kangle.core import cleaners
from kangle.core.errors import UserError
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.selectors import subtree_q
from kangle.prevention.models import PLACES_IN_A_SENTENCE, PlaceType, Warning
from kangle.prevention.spraying import sprayed_estates

MAX_PERIOD_DAYS = 3660
MAX_CLUSTERS = 400
TOP_COMMUNITIES = 30


# The brief's wording of a change, per comparison (catalogue entries; Chinese first in the product).
CHANGE_WORDS = {
    "previous": {
        "none": gettext_noop("nothing to compare with in the previous period"),
        "flat": gettext_noop("level with the previous period"),
        "up": gettext_noop("up %(pct)s%% on the previous period"),
        "down": gettext_noop("down %(pct)s%% on the previous period"),
    },
    "last_year": {
        "none": gettext_noop("nothing to compare with a year earlier"),
        "flat": gettext_noop("level with a year earlier"),
        "up": gettext_noop("up %(pct)s%% on a year earlier"),
        "down": gettext_noop("down %(pct)s%% on a year earlier"),
    },
}


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
        """In the active language: 2026年5月1日至2026年5月31日 / May 1, 2026 to May 31, 2026."""
        if self.start == self.end:
            return formats.date_format(self.start)
        return gettext("%(start)s to %(end)s") % {
            "start": formats.date_format(self.start),
            "end": formats.date_format(self.end),
        }


def _in_chinese(label) -> str:
    with translation.override("zh-hans"):
        return str(label)


def _year_back(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def parse_period(start, end) -> Period:
    """A period from two dates (ISO strings or dates), with clear messages for bad input."""
    first = cleaners.date(start, field="start", label=gettext_lazy("Start date"))
    last = cleaners.date(end, field="end", label=gettext_lazy("End date"))
    if last < first:
        raise UserError(
            "end_before_start",
            gettext_lazy("The end date (%(last)s) is before the start date (%(first)s)"),
            field="end",
            last=last,
            first=first,
        )
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise UserError(
            "period_too_long",
            gettext_lazy("A period cannot be longer than %(MAX_PERIOD_DAYS)s days"),
            field="end",
            MAX_PERIOD_DAYS=MAX_PERIOD_DAYS,
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

    def text(self, against: str) -> str:
        """In the active language, ``against`` "previous" (环比) or "last_year" (同比): 环比下降30% /
        同比上升5% / 环比持平 / 环比无可比数据."""
        pct = self.pct
        if pct is None:
            return gettext(CHANGE_WORDS[against]["none"])
        if pct == 0:
            return gettext(CHANGE_WORDS[against]["flat"])
        return gettext(CHANGE_WORDS[against]["up" if pct > 0 else "down"]) % {"pct": abs(pct)}

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
                    "name_zh": _in_chinese(PlaceType(key).label),
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
    result.brief = brief(result)
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
    return gettext("%(first)s and %(last)s") % {
        "first": pgettext("list separator", ", ").join(names[:-1]),
        "last": names[-1],
    }


def brief(result: Analysis) -> str:
    """The brief in the article's style, worded from the numbers, in the active language.

    "{时段}，{节点}共收到白蚁预警105例，环比下降30%，同比…，其中绝大多数（90%）集中在老旧房屋和绿化地带。"
    The leading place type is named, and the second one too when the first is below 80% and the second
    has at least 20%; the quantifier follows their combined share: 全部 (100%), 绝大多数 (≥ 80%),
    多数 (> 50%), else "…相对较多（合计x%，未过半）". With no earlier data the change reads "无可比数据".
    """
    text = _warnings_text(result)
    if result.sprayed:
        text += gettext(
            " During the period professionals sprayed the green belts of %(estates)s estates, cutting the"
            " chain of transmission."
        ) % {"estates": len(result.sprayed)}
    return text


def _warnings_text(result: Analysis) -> str:
    head = gettext("%(period)s, %(where)s received %(count)s termite warnings") % {
        "period": result.period.label(),
        "where": result.org.name if result.org else gettext("the whole city"),
        "count": result.count,
    }
    text = gettext("%(head)s, %(previous)s, %(last_year)s") % {
        "head": head,
        "previous": result.mom.text("previous"),
        "last_year": result.yoy.text("last_year"),
    }
    if result.count == 0:
        return gettext("%(text)s.") % {"text": text}
    ranked = [(key, n) for key, n in result.by_place if n > 0]
    leading = ranked[:1]
    # A second place type is named when the first is not already ≥ 80% and the second is ≥ 20%.
    if len(ranked) > 1 and ranked[0][1] * 100 < 80 * result.count and ranked[1][1] * 100 >= 20 * result.count:
        leading = ranked[:2]
    covered = sum(n for _, n in leading)
    words = {
        "names": _join([str(PLACES_IN_A_SENTENCE[key]) for key, _ in leading]),
        "share": round(covered * 100 / result.count),
    }
    if covered == result.count:
        tail = gettext("all of them at %(names)s")
    elif covered * 100 >= 80 * result.count:
        tail = gettext("the great majority (%(share)s%%) at %(names)s")
    elif covered * 2 > result.count:
        tail = gettext("most of them (%(share)s%%) at %(names)s")
    else:
        tail = gettext("relatively many at %(names)s (%(share)s%% together, under half)")
    return gettext("%(text)s, %(tail)s.") % {"text": text, "tail": tail % words}
