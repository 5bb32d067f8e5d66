"""The analysis as an Excel workbook: summary with the brief, breakdowns, trend, warning list.

Written through the export gate (``kangle.core.exports``): descriptions and place names typed by people
cannot become formulas, and every export is audited with the org path it covers. Headings and names are in
the requester's language (the active one)."""

from __future__ import annotations

from django.utils.translation import gettext

from kangle.core.exports import Sheet, export_workbook
from kangle.core.timeutil import local
from kangle.prevention.analysis import Analysis, warnings_under
from kangle.prevention.models import PlaceType, WarningSource

MAX_DETAIL_ROWS = 50_000


def _pct(value: int | None) -> str:
    return gettext("no data to compare") if value is None else f"{value}%"


def _label(choices, value) -> str:
    return str(choices(value).label) if value in choices.values else value


def analysis_workbook(result: Analysis, *, actor) -> bytes:
    period = result.period
    return export_workbook(
        actor=actor,
        verb="warning_analysis.export",
        object_type="prevention.warning",
        org_path=result.org.path if result.org else "",
        sheets=analysis_sheets(result),
        details={"start": period.start.isoformat(), "end": period.end.isoformat()},
    )


def analysis_sheets(result: Analysis) -> list[Sheet]:
    period = result.period
    previous, last_year = period.previous(), period.last_year()
    days = gettext("%(days)s days") % {"days": period.days}
    summary = [
        [gettext("Scope of the figures"), result.org.name if result.org else gettext("All")],
        [gettext("Statistics period"), period.start.isoformat(), period.end.isoformat(), days],
        [gettext("Warnings"), result.count],
        [
            gettext("Previous period"),
            previous.start.isoformat(),
            previous.end.isoformat(),
            result.mom.earlier,
        ],
        [gettext("Change on the previous period"), _pct(result.mom.pct)],
        [
            gettext("A year earlier"),
            last_year.start.isoformat(),
            last_year.end.isoformat(),
            result.yoy.earlier,
        ],
        [gettext("Change on a year earlier"), _pct(result.yoy.pct)],
        [gettext("Brief"), result.brief],
    ]
    places = [
        [_label(PlaceType, key), n, f"{round(n * 100 / result.count)}%" if result.count else "—"]
        for key, n in result.by_place
    ]
    communities = [[name, n] for _, name, n in result.by_community]
    trend_label = {
        "day": gettext("Date"),
        "week": gettext("Week (from)"),
        "month": gettext("Month"),
    }[result.trend_unit]
    place, community, warnings = gettext("Type of place"), gettext("Community"), gettext("Warnings")
    return [
        Sheet(gettext("Overview"), rows=summary),
        Sheet(place, [place, warnings, gettext("Share")], places),
        Sheet(community, [community, warnings], communities),
        Sheet(gettext("Trend"), [trend_label, warnings], [[bucket, n] for bucket, n in result.trend]),
        Sheet(
            gettext("Warning details"),
            [
                gettext("Time"),
                gettext("Source"),
                place,
                community,
                gettext("Place"),
                gettext("Latitude"),
                gettext("Longitude"),
                gettext("Description"),
            ],
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
            _label(WarningSource, warning.source),
            _label(PlaceType, warning.place_type),
            warning.community.name if warning.community else "",
            warning.org.name,
            float(warning.latitude) if warning.latitude is not None else None,
            float(warning.longitude) if warning.longitude is not None else None,
            warning.description,
        ]
