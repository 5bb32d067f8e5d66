"""Every figure page has a chart and an Excel export; a reversed period is a field error."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("page", "chart", "export"),
    [
        ("/activities/figures/", 'id="aspect-chart"', 'id="figures-export"'),
        ("/cases/figures/", 'id="on-time-chart"', 'id="figures-export"'),
        ("/reports/cockpit/", 'id="clock-chart"', 'id="cockpit-export"'),
    ],
)
def test_figure_page_has_chart_and_export(client, personas, page, chart, export):
    client.force_login(personas.street_admin)
    html = client.get(page).content.decode()
    assert chart in html and export in html


def test_activity_figures_export(client, personas):
    client.force_login(personas.secretary_a)
    response = client.get("/activities/figures.xlsx", {"from": "2026-01-01", "to": "2026-06-30"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["活动统计", "按服务类别"]
    client.force_login(personas.member)
    assert client.get("/activities/figures.xlsx").status_code in (403, 404)


def test_case_figures_reversed_period_is_a_field_error(client, personas):
    client.force_login(personas.street_admin)
    response = client.get("/cases/figures/", {"start": "2026-06-30", "end": "2026-06-01"})
    assert response.status_code == 200
    assert b'data-field="end"' in response.content


def test_rankings_chart_export_and_a_default_period_with_data(client, personas):
    import datetime as dt

    from django.utils import timezone

    from core.todo_items import member
    from kangle.points import services as points_services

    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    points_services.rule_create(
        actor=personas.street_admin, street=personas.tree.street, effective_from=start, now=start
    )
    person = member(personas.tree.community_a, at=start)
    # Earned two months ago: this month is empty, so the default period falls back to the last 12 months.
    earned = timezone.now() - dt.timedelta(days=62)
    points_services.award_for_service(
        actor=None,
        member=person,
        source_type="test",
        source_id="1",
        difficulty=3,
        duration_minutes=120,
        occurred_at=earned,
        evidence={},
        now=earned,
    )
    client.force_login(personas.secretary_a)
    page = client.get("/points/rankings/", {"unit": personas.tree.community_a.code}).content.decode()
    assert 'id="ranking-chart"' in page and 'id="ranking-export"' in page
    title = page[page.index("<title>") + 7 : page.index("</title>")]
    assert len(title) < 80 and "<" not in title
    response = client.get(
        "/points/rankings/",
        {
            "unit": personas.tree.community_a.code,
            "start": "2020-01-01",
            "end": "2030-01-01",
            "format": "xlsx",
        },
    )
    book = load_workbook(io.BytesIO(response.content))
    assert book["积分排行"].cell(row=3, column=2).value == person.name


def test_activity_figures_reversed_period_is_a_field_error_and_empty_says_why(client, personas):
    client.force_login(personas.secretary_a)
    html = client.get("/activities/figures/", {"from": "2026-06-30", "to": "2026-06-01"}).content.decode()
    assert 'id="period-error"' in html and 'data-field="to"' in html
    # Nothing in the period: the page says why and links the action that fills it.
    assert 'id="empty-activities"' in html and 'href="/activities/new/"' in html
    assert 'id="period-error"' not in client.get("/activities/figures/").content.decode()


def test_base_numbers_empty_state_links_registration(client, personas):
    client.force_login(personas.secretary_a)
    html = client.get("/members/base-numbers/").content.decode()
    assert 'id="empty-base-numbers"' in html and 'href="/members/new/"' in html
