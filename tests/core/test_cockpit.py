"""The street cockpit (驾驶舱): figures in scope, a chart and an export, empty states, period checks."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db


def test_cockpit_for_street_and_area_admins_only(client, personas):
    for persona in (personas.street_admin, personas.area_admin):
        client.force_login(persona)
        response = client.get("/reports/cockpit/")
        assert response.status_code == 200
        assert b'id="clock-chart"' in response.content and b'id="cockpit-export"' in response.content
    for persona in (personas.secretary_a, personas.grid_leader, personas.member, personas.contractor):
        client.force_login(persona)
        assert client.get("/reports/cockpit/").status_code == 404
        assert client.get("/reports/cockpit.xlsx").status_code == 404
    client.logout()
    assert client.get("/reports/cockpit/").status_code == 302


def test_empty_cockpit_says_why_and_links_the_action(client, personas):
    client.force_login(personas.street_admin)
    page = client.get("/reports/cockpit/").content.decode()
    for empty in ("empty-coverage", "empty-service", "empty-cases", "empty-warnings"):
        assert f'id="{empty}"' in page
    assert "/members/base-numbers/" in page and "/cases/desk/new/" in page


def test_period_ending_before_it_starts_is_a_field_error(client, personas):
    client.force_login(personas.street_admin)
    response = client.get("/reports/cockpit/", {"start": "2026-06-30", "end": "2026-06-01"})
    assert response.status_code == 200
    assert b'data-field="end"' in response.content


def test_export_has_the_figures(client, personas):
    from kangle.core.models import AuditEvent

    client.force_login(personas.area_admin)
    response = client.get("/reports/cockpit.xlsx", {"start": "2026-01-01", "end": "2026-01-31"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    labels = [row[0].value for row in book["驾驶舱"].iter_rows(min_row=2)]
    assert any("按时率" in label for label in labels)
    assert book["预警趋势"].max_row == 13
    assert AuditEvent.objects.filter(verb="cockpit.export", actor=personas.area_admin).exists()
