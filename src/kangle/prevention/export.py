"""The analysis as an Excel workbook (openpyxl): summary with the brief, breakdowns, trend, warning list."""

from __future__ import annotations

import io

from openpyxl import Workbook

from kangle.core.timeutil import local
from kangle.prevention.analysis import Analysis, warnings_under
from kangle.prevention.models import PLACE_NAMES_ZH, WarningSource

MAX_DETAIL_ROWS = 50_000
SOURCE_NAMES_ZH = {
    WarningSource.MONITORING: "监测读数",
    WarningSource.RESIDENT_CASE: "居民报事",
    WarningSource.PATROL: "巡查发现",
}


def _pct(value: int | None) -> str:
    return "无可比数据" if value is None else f"{value}%"


def analysis_workbook(result: Analysis) -> bytes:
    book = Workbook(write_only=True)
    summary = book.create_sheet("概况")
    period = result.period
    summary.append(["统计范围", result.org.name if result.org else "全部"])
    summary.append(["统计周期", period.start.isoformat(), period.end.isoformat(), f"{period.days}天"])
    summary.append(["预警数", result.count])
    previous, last_year = period.previous(), period.last_year()
    summary.append(["上期（环比）", previous.start.isoformat(), previous.end.isoformat(), result.mom.earlier])
    summary.append(["环比变化", _pct(result.mom.pct)])
    summary.append(
        ["去年同期（同比）", last_year.start.isoformat(), last_year.end.isoformat(), result.yoy.earlier]
    )
    summary.append(["同比变化", _pct(result.yoy.pct)])
    summary.append(["简报", result.brief])

    places = book.create_sheet("场所类型")
    places.append(["场所类型", "预警数", "占比"])
    for key, n in result.by_place:
        places.append([PLACE_NAMES_ZH[key], n, f"{round(n * 100 / result.count)}%" if result.count else "—"])

    communities = book.create_sheet("居民区")
    communities.append(["居民区", "预警数"])
    for _, name, n in result.by_community:
        communities.append([name, n])

    trend = book.create_sheet("趋势")
    trend.append([{"day": "日期", "week": "周（起）", "month": "月份"}[result.trend_unit], "预警数"])
    for bucket, n in result.trend:
        trend.append([bucket, n])

    detail = book.create_sheet("预警明细")
    detail.append(["时间", "来源", "场所类型", "居民区", "地点", "纬度", "经度", "说明"])
    rows = (
        warnings_under(result.org)
        .filter(period.q())
        .select_related("org", "community")
        .order_by("occurred_at", "id")[:MAX_DETAIL_ROWS]
    )
    for warning in rows.iterator(chunk_size=2000):
        detail.append(
            [
                f"{local(warning.occurred_at):%Y-%m-%d %H:%M}",
                SOURCE_NAMES_ZH.get(warning.source, warning.source),
                PLACE_NAMES_ZH.get(warning.place_type, warning.place_type),
                warning.community.name if warning.community else "",
                warning.org.name,
                float(warning.latitude) if warning.latitude is not None else None,
                float(warning.longitude) if warning.longitude is not None else None,
                warning.description,
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
