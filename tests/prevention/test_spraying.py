"""Preventive spraying of green belts: a campaign action, on the figures, the map data and the brief."""

import datetime as dt

import pytest
from django.http import Http404

from kangle.core.errors import UserError
from kangle.orgs.models import EstateType, OrgKind
from kangle.prevention import analysis
from kangle.prevention.models import Spraying, SprayingPhoto
from kangle.prevention.spraying import spraying_record
from personas import make_unit
from prevention.conftest import T0, png_upload

pytestmark = pytest.mark.django_db

SPRAYED = T0 - dt.timedelta(hours=2)


def _spray(personas, campaign, photo, *, unit=None, actor=None, **extra):
    return spraying_record(
        actor=actor or personas.secretary_a,
        campaign=campaign,
        unit=unit or personas.tree.estate_a,
        sprayed_at=extra.pop("sprayed_at", SPRAYED),
        agent=extra.pop("agent", "联苯菊酯悬浮剂"),
        photos=extra.pop("photos", [photo]),
        now=T0,
        **extra,
    )


def test_spraying_is_recorded_with_contractor_agent_and_photos(personas, campaign, photo, contractor_org):
    row = _spray(personas, campaign, photo, note="沿河绿化带约 800 平方米")
    assert row.contractor == contractor_org and row.org == personas.tree.estate_a
    assert row.org_path == personas.tree.estate_a.path and row.sprayed_at == SPRAYED
    assert SprayingPhoto.objects.filter(spraying=row).count() == 1


def test_spraying_for_an_estate_outside_the_campaign_is_refused(personas, campaign, photo):
    other = make_unit(
        personas.tree.community_a, OrgKind.ESTATE, "KJ-C01-E2", "康乐2小区", estate_type=EstateType.ESTATE
    )
    with pytest.raises(UserError) as error:
        _spray(personas, campaign, photo, unit=other)
    assert error.value.code == "unit_not_in_campaign" and error.value.field == "unit"
    assert "康乐2小区" in error.value.zh
    with pytest.raises(Http404):  # outside the recorder's reach it does not exist
        _spray(personas, campaign, photo, unit=personas.tree.estate_b)
    assert not Spraying.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"agent": " "}, "agent"),
        ({"photos": []}, "photos"),
        ({"sprayed_at": T0 + dt.timedelta(hours=1)}, "sprayed_at"),
        ({"sprayed_at": dt.datetime(2026, 5, 1, 9, 0, tzinfo=T0.tzinfo)}, "sprayed_at"),
    ],
)
def test_spraying_bad_input_names_the_field(personas, campaign, photo, extra, field):
    with pytest.raises(UserError) as error:
        _spray(personas, campaign, photo, **extra)
    assert error.value.field == field
    assert not Spraying.objects.exists() and not SprayingPhoto.objects.exists()


def test_spraying_outside_reach_and_by_a_member(personas, campaign, photo):
    with pytest.raises(Http404):
        _spray(personas, campaign, photo, actor=personas.secretary_b)
    with pytest.raises(Http404):
        _spray(personas, campaign, photo, actor=personas.member)


def test_figures_map_data_and_brief_count_sprayed_estates(personas, campaign, photo):
    _spray(personas, campaign, photo)
    _spray(personas, campaign, photo, sprayed_at=SPRAYED - dt.timedelta(hours=1))
    period = analysis.Period(dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    result = analysis.analyse(personas.tree.street, period)
    data = result.as_dict()
    assert data["sprayed_estates"] == 1
    assert data["sprayed"][0]["code"] == personas.tree.estate_a.code and data["sprayed"][0]["times"] == 2
    assert "对1个小区绿化带喷洒药水" in result.brief
    elsewhere = analysis.analyse(personas.tree.community_b, period)
    assert elsewhere.as_dict()["sprayed_estates"] == 0 and "喷洒药水" not in elsewhere.brief


# --- page ------------------------------------------------------------------------------------------------
def test_spraying_page(client, personas, campaign, time_machine):
    time_machine.move_to(T0, tick=False)
    url = f"/prevention/campaigns/{campaign.pk}/spraying/"
    assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(personas.secretary_b)
    assert client.get(url).status_code == 404
    client.force_login(personas.member)
    assert client.get(url).status_code == 403
    client.force_login(personas.secretary_a)
    page = client.get(url)
    assert page.status_code == 200 and 'id="spraying-form"' in page.content.decode()
    response = client.post(
        url,
        {
            "unit": personas.tree.estate_a.code,
            "sprayed_at": "2026-06-10T08:00",
            "agent": "联苯菊酯悬浮剂",
            "photos": png_upload(),
        },
    )
    assert response.status_code == 302
    row = Spraying.objects.get()
    assert row.agent == "联苯菊酯悬浮剂"
    listing = client.get(url).content.decode()
    assert f'data-estate="{personas.tree.estate_a.code}"' in listing
    photo_url = f"/files/spraying-photo/{row.photos.get().pk}/"
    assert photo_url in listing and client.get(photo_url).status_code == 200
    client.force_login(personas.secretary_b)
    assert client.get(photo_url).status_code == 404


# --- API -------------------------------------------------------------------------------------------------
def test_spraying_api(client, api, personas, campaign, time_machine):
    time_machine.move_to(T0, tick=False)
    url = f"/api/v1/prevention/campaigns/{campaign.pk}/sprayings"
    data = {
        "unit_code": personas.tree.estate_a.code,
        "sprayed_at": "2026-06-10T08:00:00+08:00",
        "agent": "联苯菊酯悬浮剂",
    }
    assert client.post(url, {**data, "photos": png_upload()}).status_code == 401
    client.force_login(personas.secretary_b)
    assert client.post(url, {**data, "photos": png_upload()}).status_code == 404
    client.force_login(personas.member)
    assert client.post(url, {**data, "photos": png_upload()}).status_code in (403, 404)
    client.force_login(personas.secretary_a)
    outside = client.post(url, {**data, "unit_code": "KJ-C01-E9", "photos": png_upload()})
    assert outside.status_code == 404
    made = client.post(url, {**data, "photos": png_upload()})
    assert made.status_code == 201, made.content
    assert made.json()["unit_code"] == personas.tree.estate_a.code and len(made.json()["photos"]) == 1
    listed = api.get(f"/prevention/campaigns/{campaign.pk}/sprayings").json()
    assert listed["count"] == 1 and listed["items"][0]["agent"] == "联苯菊酯悬浮剂"
    analysed = api.get("/prevention/analysis", start="2026-06-01", end="2026-06-30", org="KJ-C01").json()
    assert analysed["sprayed_estates"] == 1 and "喷洒药水" in analysed["brief"]


def test_dashboard_shows_the_sprayed_estates(client, personas, campaign, photo):
    _spray(personas, campaign, photo)
    client.force_login(personas.secretary_a)
    page = client.get("/prevention/", {"start": "2026-06-01", "end": "2026-06-30"}).content.decode()
    assert 'id="stat-sprayed">1<' in page
    assert f'data-estate="{personas.tree.estate_a.code}"' in page and "喷洒药水" in page
