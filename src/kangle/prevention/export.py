"""The analysis as an Excel workbook: summary with the brief, breakdowns, trend, warning list.

Written through the export gate (``kangle.core.exports``): descriptions and place names typed by people
cannot become formulas, and every export is audited with the org path it covers."""

from __future__ import annotations

from kangle.core.exports import Sheet, export_workbook
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


def analysis_workbook(result: Analysis, *, actor) -> bytes:
    period = result.period
    return export_workbook(
        actor=actor,
        verb="prevention.analysis_export",
        object_type="prevention.warning",
        org_path=result.org.path if result.org else "",
        sheets=analysis_sheets(result),
        details={"start": period.start.isoformat(), "end": period.end.isoformat()},
    )


def analysis_sheets(result: Analysis) -> list[Sheet]:
    period = result.period
    previous, last_year = period.previous(), period.last_year()
    summary = [
        ["统计范围", result.org.name if result.org else "全部"],
        ["统计周期", period.start.isoformat(), period.end.isoformat(), f"{period.days}天"],
        ["预警数", result.count],
        ["上期（环比）", previous.start.isoformat(), previous.end.isoformat(), result.mom.earlier],
        ["环比变化", _pct(result.mom.pct)],
        ["去年同期（同比）", last_year.start.isoformat(), last_year.end.isoformat(), result.yoy.earlier],
        ["同比变化", _pct(result.yoy.pct)],
        ["简报", result.brief],
    ]
    places = [
        [PLACE_NAMES_ZH[key], n, f"{round(n * 100 / result.count)}%" if result.count else "—"]
        for key, n in result.by_place
    ]
    communities = [[name, n] for _, name, n in result.by_community]
    trend_label = {"day": "日期", "week": "周（起）", "month": "月份"}[result.trend_unit]
    return [
        Sheet("概况", rows=summary),
        Sheet("场所类型", ["场所类型", "预警数", "占比"], places),
        Sheet("居民区", ["居民区", "预警数"], communities),
        Sheet("趋势", [trend_label, "预警数"], [[bucket, n] for bucket, n in result.trend]),
        Sheet(
            "预警明细",
            ["时间", "来源", "场所类型", "居民区", "地点", "纬度", "经度", "说明"],
            _detail(result),
        ),
    ]


def _detail(result: Analysis):
    rows = (
        warnings_under(result.org)
        .filter(result.period.q())
        .select_related("org", "community")
        .order_by("occurred_at", "id")[:MAX_DETAIL_ROWS]
    )
    for warning in rows.iterator(chunk_size=2000):
        yield [
            f"{local(warning.occurred_at):%Y-%m-%d %H:%M}",
            SOURCE_NAMES_ZH.get(warning.source, warning.source),
            PLACE_NAMES_ZH.get(warning.place_type, warning.place_type),
            warning.community.name if warning.community else "",
            warning.org.name,
            float(warning.latitude) if warning.latitude is not None else None,
            float(warning.longitude) if warning.longitude is not None else None,
            warning.description,
        ]
