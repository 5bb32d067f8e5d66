import datetime as dt
import io
import json

import pytest
from django.utils import translation
from openpyxl import load_workbook

from kangle.core.errors import UserError
from kangle.prevention import analysis
from kangle.prevention.analysis import Analysis, Change, Period, brief, parse_period
from kangle.prevention.export import analysis_workbook
from kangle.prevention.models import PlaceType, Warning, WarningSource, grid_cell
from kangle.prevention.services import community_of
from prevention.conftest import SH

pytestmark = pytest.mark.django_db


def add(org, when: dt.datetime, place=PlaceType.OLD_HOUSE, n=1, lat=None, lng=None):
    community = community_of(org)
    Warning.objects.bulk_create(
        [
            Warning(
                source=WarningSource.PATROL,
                place_type=place,
                org=org,
                org_path=org.path,
                community=community,
                occurred_at=when,
                occurred_on=when.date(),
                latitude=lat,
                longitude=lng,
                cell_lat=grid_cell(lat),
                cell_lng=grid_cell(lng),
                created_at=when,
            )
            for _ in range(n)
        ]
    )


def at(y, m, d, h=12, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=SH)


# --- periods ----------------------------------------------------------------------------------------------
def test_previous_period_has_equal_length_and_last_year_same_dates():
    period = Period(dt.date(2026, 5, 1), dt.date(2026, 6, 30))
    assert period.days == 61
    assert period.previous() == Period(dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    assert period.last_year() == Period(dt.date(2025, 5, 1), dt.date(2025, 6, 30))
    leap = Period(dt.date(2028, 2, 29), dt.date(2028, 2, 29))
    assert leap.last_year() == Period(dt.date(2027, 2, 28), dt.date(2027, 2, 28))
    assert leap.previous() == Period(dt.date(2028, 2, 28), dt.date(2028, 2, 28))


def test_period_whose_end_is_before_its_start_is_refused():
    with pytest.raises(UserError) as error:
        parse_period("2026-06-30", "2026-06-01")
    assert error.value.code == "end_before_start" and error.value.field == "end"
    assert "结束日期" in error.value.zh and "before the start" in error.value.en


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        ("", "2026-06-01", "blank_start"),
        ("2026-13-01", "2026-12-31", "invalid_start"),
        ("2026-01-01", "x", "invalid_end"),
        ("2000-01-01", "2026-01-01", "period_too_long"),
    ],
)
def test_bad_period_input(start, end, code):
    with pytest.raises(UserError) as error:
        parse_period(start, end)
    assert error.value.code == code


def test_one_day_period_is_fine():
    assert parse_period("2026-06-01", "2026-06-01").days == 1


# --- counts, boundaries -----------------------------------------------------------------------------------
def test_period_boundaries_the_minute_before_at_and_after(personas):
    estate = personas.tree.estate_a
    add(estate, at(2026, 4, 30, 23, 59))  # previous period's last minute
    add(estate, at(2026, 5, 1, 0, 0))  # current period's first minute
    add(estate, at(2026, 6, 30, 23, 59))  # current period's last minute
    add(estate, at(2026, 7, 1, 0, 0))  # after
    result = analysis.analyse(personas.tree.street, parse_period("2026-05-01", "2026-06-30"))
    assert result.count == 2
    assert result.mom.earlier == 1


def test_no_earlier_data_says_no_comparable_data_never_infinity(personas):
    add(personas.tree.estate_a, at(2026, 5, 3), n=4)
    result = analysis.analyse(personas.tree.street, parse_period("2026-05-01", "2026-05-31"))
    assert result.count == 4 and result.mom.pct is None and result.yoy.pct is None
    assert result.mom.direction == "none"
    assert "环比无可比数据" in result.brief and "同比无可比数据" in result.brief
    payload = json.dumps(result.as_dict())  # JSON-safe: null, not Infinity/NaN
    assert "Infinity" not in payload and "NaN" not in payload
    assert result.as_dict()["previous"]["pct"] is None


def test_empty_everything_is_zero_and_says_so(personas):
    result = analysis.analyse(personas.tree.street, parse_period("2026-05-01", "2026-05-31"))
    assert result.count == 0
    assert (
        result.brief
        == "2026年5月1日至2026年5月31日，康健街道共收到白蚁预警0例，环比无可比数据，同比无可比数据。"
    )


def test_article_figures_down_30_percent_mostly_old_houses_and_green_belts(personas):
    estate = personas.tree.estate_a
    add(estate, at(2026, 5, 10), PlaceType.OLD_HOUSE, n=60)
    add(estate, at(2026, 6, 10), PlaceType.GREEN_BELT, n=35)
    add(estate, at(2026, 6, 11), PlaceType.SHOP, n=6)
    add(estate, at(2026, 6, 12), PlaceType.OTHER, n=4)
    add(estate, at(2026, 3, 15), n=150)
    add(estate, at(2025, 5, 15), n=100)
    result = analysis.analyse(personas.tree.street, parse_period("2026-05-01", "2026-06-30"))
    assert (result.count, result.mom.earlier, result.mom.pct) == (105, 150, -30)
    assert result.yoy.pct == 5 and result.yoy.direction == "up"
    assert result.brief == (
        "2026年5月1日至2026年6月30日，康健街道共收到白蚁预警105例，环比下降30%，同比上升5%，"
        "其中绝大多数（90%）集中在老旧房屋和绿化地带。"
    )
    assert result.by_place[0] == (PlaceType.OLD_HOUSE, 60)
    assert result.by_community == [(personas.tree.community_a.pk, "康乐居民区", 105)]


def _brief(places: dict, earlier: int, count: int | None = None, last_year: int = 0) -> str:
    count = sum(places.values()) if count is None else count
    result = Analysis(
        org=None,
        period=Period(dt.date(2026, 5, 1), dt.date(2026, 5, 31)),
        count=count,
        mom=Change(count, earlier),
        yoy=Change(count, last_year),
        by_place=sorted(places.items(), key=lambda item: -item[1]),
        by_community=[],
        trend=[],
        trend_unit="day",
        clusters=[],
        without_coordinates=0,
    )
    return brief(result)


def test_brief_wording_follows_the_numbers():
    rising = _brief({PlaceType.SHOP: 12, PlaceType.OLD_HOUSE: 0}, earlier=10)
    assert "环比上升20%" in rising and "其中全部集中在商铺" in rising
    flat = _brief({PlaceType.OLD_HOUSE: 10}, earlier=10, last_year=10)
    assert "环比持平" in flat and "同比持平" in flat
    # 7 of 10 in one type: a majority, not the great majority; second type under 20% is not named.
    majority = _brief(
        {PlaceType.OLD_HOUSE: 7, PlaceType.GREEN_BELT: 1, PlaceType.SHOP: 1, PlaceType.OTHER: 1}, 20
    )
    assert "环比下降50%" in majority and "其中多数（70%）集中在老旧房屋。" in majority
    # No majority anywhere: say so.
    spread = _brief(
        {PlaceType.OLD_HOUSE: 45, PlaceType.GREEN_BELT: 19, PlaceType.SHOP: 18, PlaceType.OTHER: 18}, 100
    )
    assert "其中老旧房屋相对较多（合计45%，未过半）。" in spread and "多数" not in spread
    # Two leading types together over half, neither alone.
    pair = _brief(
        {PlaceType.OLD_HOUSE: 3, PlaceType.GREEN_BELT: 3, PlaceType.SHOP: 2, PlaceType.OTHER: 2}, 10
    )
    assert "其中多数（60%）集中在老旧房屋和绿化地带。" in pair
    # A tiny change rounds to flat rather than "下降0%".
    tiny = _brief({PlaceType.OLD_HOUSE: 1000}, earlier=1001)
    assert "环比持平" in tiny


def test_change_never_divides_by_zero():
    assert Change(5, 0).pct is None and Change(0, 0).pct is None
    assert Change(0, 4).pct == -100 and Change(0, 4).text("previous") == "环比下降100%"


# --- scope, breakdowns, trend, clusters -------------------------------------------------------------------
def test_analysis_counts_only_the_chosen_subtree(personas):
    add(personas.tree.estate_a, at(2026, 5, 3), n=3)
    add(personas.tree.estate_b, at(2026, 5, 3), n=2)
    period = parse_period("2026-05-01", "2026-05-31")
    assert analysis.analyse(personas.tree.community_a, period).count == 3
    assert analysis.analyse(personas.tree.community_b, period).count == 2
    assert analysis.analyse(personas.tree.street, period).count == 5
    assert analysis.analyse(None, period).count == 5


def test_trend_buckets_and_clusters(personas):
    add(personas.tree.estate_a, at(2026, 5, 2, 0, 30), n=2, lat="31.164100", lng="121.423100")
    add(personas.tree.estate_a, at(2026, 5, 3, 23, 30), n=1, lat="31.164120", lng="121.423090")
    add(personas.tree.estate_a, at(2026, 5, 3, 12), n=1)
    result = analysis.analyse(personas.tree.street, parse_period("2026-05-01", "2026-05-04"))
    assert result.trend_unit == "day"
    assert result.trend == [("2026-05-01", 0), ("2026-05-02", 2), ("2026-05-03", 2), ("2026-05-04", 0)]
    assert result.clusters == [(31.164, 121.423, 3)]
    assert result.without_coordinates == 1
    long = analysis.analyse(personas.tree.street, parse_period("2026-01-01", "2026-12-31"))
    assert long.trend_unit == "week" and sum(n for _, n in long.trend) == 4


def test_analysis_query_count_is_fixed(personas, django_assert_num_queries):
    from django.db import connection

    # Three range counts, the breakdowns (one GROUPING SETS pass on PostgreSQL, four GROUP BYs elsewhere),
    # the community names, the estates sprayed (one GROUP BY).
    expected = 6 if connection.vendor == "postgresql" else 9
    add(personas.tree.estate_a, at(2026, 5, 3), n=3)
    period = parse_period("2026-05-01", "2026-05-31")
    with django_assert_num_queries(expected):
        analysis.analyse(personas.tree.street, period)
    add(personas.tree.estate_b, at(2026, 5, 3), n=30)
    with django_assert_num_queries(expected):
        analysis.analyse(personas.tree.street, period)


# --- Excel ------------------------------------------------------------------------------------------------
def test_excel_export_holds_the_figures_and_the_brief(personas):
    add(personas.tree.estate_a, at(2026, 5, 3), PlaceType.GREEN_BELT, n=3, lat="31.1", lng="121.4")
    result = analysis.analyse(personas.tree.street, parse_period("2026-05-01", "2026-05-31"))
    book = load_workbook(io.BytesIO(analysis_workbook(result, actor=personas.street_admin)))
    assert book.sheetnames == ["概况", "场所类型", "居民区", "趋势", "预警明细"]
    summary = {row[0]: row[1:] for row in book["概况"].iter_rows(values_only=True)}
    assert summary["预警数"][0] == 3
    assert summary["环比变化"][0] == "无可比数据"
    assert summary["简报"][0] == result.brief
    places = list(book["场所类型"].iter_rows(values_only=True))
    assert places[1] == ("绿化带", 3, "100%")
    detail = list(book["预警明细"].iter_rows(values_only=True))
    assert len(detail) == 4 and detail[1][2] == "绿化带" and detail[1][3] == "康乐居民区"


def test_excel_export_and_brief_in_the_requesters_language(personas):
    add(personas.tree.estate_a, at(2026, 5, 3), PlaceType.GREEN_BELT, n=3, lat="31.1", lng="121.4")
    with translation.override("en"):
        result = analysis.analyse(personas.tree.street, parse_period("2026-05-01", "2026-05-31"))
        book = load_workbook(io.BytesIO(analysis_workbook(result, actor=personas.street_admin)))
    assert result.brief.startswith("May 1, 2026 to May 31, 2026, ")
    assert "received 3 termite warnings" in result.brief and result.brief.endswith(
        "all of them at green belts."
    )
    assert book.sheetnames == ["Overview", "Type of place", "Community", "Trend", "Warning details"]
    summary = {row[0]: row[1:] for row in book["Overview"].iter_rows(values_only=True)}
    assert summary["Change on the previous period"][0] == "no data to compare"
    assert summary["Brief"][0] == result.brief
    detail = list(book["Warning details"].iter_rows(values_only=True))
    assert detail[1][1] == "Patrol" and detail[1][2] == "Green belt"


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("start", "end"),
    [("2026-05-01", "2026-05-31"), ("2026-01-01", "2026-12-31"), ("2024-01-01", "2026-12-31")],
)
def test_one_pass_grouping_sets_equal_the_plain_group_bys(personas, start, end):
    add(personas.tree.estate_a, at(2026, 5, 2, 0, 30), n=2, lat="31.164100", lng="121.423100")
    add(
        personas.tree.estate_a,
        at(2026, 5, 3, 23, 30),
        PlaceType.GREEN_BELT,
        lat="31.174120",
        lng="121.413090",
    )
    add(personas.tree.estate_b, at(2026, 5, 20, 12), PlaceType.SHOP)
    add(personas.tree.estate_b, at(2026, 3, 20, 12), PlaceType.OTHER, lat="31.1", lng="121.4")
    period = parse_period(start, end)
    for org in (None, personas.tree.street, personas.tree.community_a):
        current = analysis.warnings_under(org).filter(period.q())
        unit, trunc = analysis._trend_unit(period)
        scale = analysis.cluster_scale(org)
        plain = analysis._groups(current, trunc, scale)
        one_pass = analysis._groups_in_one_pass(current, unit, scale)
        assert plain[0] == one_pass[0]
        assert sorted(plain[1], key=str) == sorted(one_pass[1], key=str)
        assert plain[2] == one_pass[2]
        assert sorted(plain[3]) == sorted(one_pass[3])


def test_excel_export_writes_typed_text_as_text_and_is_audited(client, personas):
    from kangle.core.models import AuditEvent

    add(personas.tree.estate_a, at(2026, 5, 3))
    Warning.objects.update(description="=1+1", place_type=PlaceType.OLD_HOUSE)
    personas.tree.estate_a.name = "@SUM(A1:A9)"
    personas.tree.estate_a.save()
    client.force_login(personas.secretary_a)
    for url in ("/prevention/export.xlsx", "/api/v1/prevention/analysis.xlsx"):
        answer = client.get(
            url, {"start": "2026-05-01", "end": "2026-05-31", "org": personas.tree.community_a.code}
        )
        assert answer.status_code == 200, url
        detail = list(load_workbook(io.BytesIO(answer.content))["预警明细"].iter_rows(min_row=2))
        assert detail[0][7].value == "'=1+1" and detail[0][7].data_type == "s"
        assert detail[0][4].value == "'@SUM(A1:A9)"
    events = AuditEvent.objects.filter(verb="warning_analysis.export")
    assert events.count() == 2
    assert {event.org_path for event in events} == {personas.tree.community_a.path}
