"""The case figures page draws its embedded map from the scoped JSON endpoint, under the site's CSP."""

from __future__ import annotations

from decimal import Decimal

import pytest

from conftest import browser_login
from kangle.orgs.models import Venue, VenueKind
from personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_case_figures_draw_the_map(desk_page, personas):
    Venue.objects.create(
        org=personas.tree.community_a,
        kind=VenueKind.SERVICE_CENTRE,
        name="康乐会客厅",
        address="康健路 300 弄",
        latitude=Decimal("31.164000"),
        longitude=Decimal("121.423000"),
    )
    errors = []
    desk_page.on("pageerror", lambda error: errors.append(str(error)))
    # (The console's "failed to load" line for the browser's own favicon request is not the page's.)
    desk_page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    browser_login(desk_page, "street_admin", PASSWORD)
    with desk_page.expect_response(lambda response: "/reports/map/data/" in response.url) as answer:
        desk_page.goto("/cases/figures/")
    assert answer.value.status == 200
    desk_page.locator("#map canvas").first.wait_for()
    assert not errors, errors
