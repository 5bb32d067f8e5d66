"""The map: layers in scope, filters, the street's tile URL (http(s) only) and no outside request without it."""

from __future__ import annotations

import json
import re

import pytest

from kangle.orgs.models import Venue
from kangle.reports.models import StreetSettings

pytestmark = pytest.mark.django_db


def _data(response) -> dict:
    match = re.search(
        r'<script id="map-data" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    return json.loads(match.group(1))


@pytest.fixture
def placed(personas):
    Venue.objects.filter(pk=personas.tree.venue_a.pk).update(latitude="31.170000", longitude="121.420000")
    Venue.objects.create(
        org=personas.tree.community_b, name="桂林苑活动室", latitude="31.180000", longitude="121.430000"
    )


def test_outline_map_without_tiles_makes_no_outside_request(client, personas, placed):
    client.force_login(personas.secretary_a)
    response = client.get("/reports/map/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-base="outline"' in html
    assert not re.search(r'(src|href)="https?://', html)
    data = _data(response)
    assert [v["name"] for v in data["features"]["venues"]] == [
        personas.tree.venue_a.name
    ]  # not community B's
    assert data["outline"]["features"][0]["geometry"]["type"] == "Polygon"
    assert data["tiles"] is None
    assert 'id="map-settings"' not in html  # a secretary does not set the street's base map


def test_layers_filter(client, personas, placed):
    client.force_login(personas.street_admin)
    data = _data(client.get("/reports/map/", {"layer": "cases"}))
    assert data["features"]["venues"] == [] and data["features"]["cases"] == []
    data = _data(client.get("/reports/map/", {"layer": "venues"}))
    assert len(data["features"]["venues"]) == 2


def test_street_admin_sets_an_https_tile_url(client, personas, placed):
    client.force_login(personas.street_admin)
    url = "https://t0.tiles.example.gov.cn/{z}/{x}/{y}.png?tk=KEY"
    response = client.post("/reports/map/", {"tile_url": url, "attribution": "© 测绘地理信息局"})
    assert response.status_code == 302
    assert StreetSettings.objects.get(street=personas.tree.street).tile_url == url
    page = client.get("/reports/map/")
    assert 'data-base="tiles"' in page.content.decode()
    assert _data(page)["tiles"]["url"] == url


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)//{z}{x}{y}",
        "ftp://tiles.example.com/{z}/{x}/{y}.png",
        "data:text/html,{z}{x}{y}",
        "https://tiles.example.com/{z}/{x}.png",
        'https://tiles.example.com/{z}/{x}/{y}.png"><script>',
    ],
)
def test_tile_url_that_is_not_http_is_refused_at_save(client, personas, bad):
    client.force_login(personas.street_admin)
    response = client.post("/reports/map/", {"tile_url": bad})
    assert response.status_code == 200
    assert b'data-field="tile_url"' in response.content
    assert not StreetSettings.objects.filter(tile_url=bad).exists()


def test_map_is_for_staff(client, personas):
    client.force_login(personas.member)
    assert client.get("/reports/map/").status_code == 403
    client.force_login(personas.secretary_a)
    response = client.post("/reports/map/", {"tile_url": "https://x.example/{z}/{x}/{y}.png"})
    assert response.status_code == 404  # the street is above the secretary's subtree
    assert not StreetSettings.objects.exists()


def test_case_figures_embed_the_map_of_open_cases(client, personas):
    """The figure page with coordinates shows the map; its data come from the scoped JSON endpoint."""
    client.force_login(personas.street_admin)
    page = client.get("/cases/figures/").content.decode()
    assert 'id="map"' in page and 'data-src="/reports/map/data/?layer=cases"' in page
    data = client.get("/reports/map/data/?layer=cases").json()
    assert set(data) == {"features", "outline", "tiles"} and data["tiles"] is None
    client.force_login(personas.member)
    assert client.get("/reports/map/data/").status_code == 403
