"""The Django admin for the street admin's reference data is scoped like every other page, writes included."""

from __future__ import annotations

import pytest

from kangle.core.models import AuditEvent
from kangle.orgs.models import OrgUnit, RegistrationPoint, Venue

pytestmark = pytest.mark.django_db


def venue_form(org, name):
    return {
        "org": org.pk,
        "kind": "other",
        "name": name,
        "address": "湖南路 1 号",
        "opening_hours": "",
        "is_active": "on",
    }


def test_the_changelist_holds_only_the_admins_street(client, personas):
    client.force_login(personas.street_admin)
    page = client.get("/admin/orgs/orgunit/?all=").content.decode()
    assert "桂林苑居民区" in page and "康乐居民区" in page
    assert "湖南街道" not in page and "徐汇区" not in page
    response = client.get(f"/admin/orgs/orgunit/{personas.tree.other_street.pk}/change/")
    assert response.status_code == 302  # the admin's "does not exist" answer
    assert not OrgUnit.objects.filter(name="改名").exists()


def test_a_venue_cannot_be_added_outside_the_street(client, personas):
    client.force_login(personas.street_admin)
    response = client.post("/admin/orgs/venue/add/", venue_form(personas.tree.other_street, "越界场所"))
    assert response.status_code == 200
    assert "org" in response.context["adminform"].form.errors
    assert not Venue.objects.filter(name="越界场所").exists()
    response = client.post("/admin/orgs/venue/add/", venue_form(personas.tree.community_b, "桂林苑雷锋亭"))
    assert response.status_code == 302
    venue = Venue.objects.get(name="桂林苑雷锋亭")
    assert AuditEvent.objects.filter(verb="venue.create.admin", object_id=str(venue.pk)).exists()


def test_a_registration_point_cannot_be_added_outside_the_street(client, personas):
    client.force_login(personas.street_admin)
    data = {"org": personas.tree.other_street.pk, "code": "P-HN", "name": "越界报到点", "is_active": "on"}
    response = client.post("/admin/orgs/registrationpoint/add/", data)
    assert response.status_code == 200
    assert "org" in response.context["adminform"].form.errors
    assert not RegistrationPoint.objects.filter(code="P-HN").exists()


@pytest.mark.parametrize("who", ["secretary_a", "area_admin", "member"])
def test_only_street_admins_open_the_admin(client, personas, who):
    client.force_login(getattr(personas, who))
    response = client.get("/admin/orgs/venue/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
