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
