"""The Django admin for the street admin's reference data is scoped like every other page, writes included."""

from __future__ import annotations

import pytest

from kangle.orgs.models import Venue

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


def test_the_django_admin_is_for_platform_operators_only(client, personas):
    """A street runs itself from the workbench (people, reference data, audit log); /admin/ answers staff
    of every role with its login page, and opens for the superuser."""
    for persona in (personas.street_admin, personas.area_admin, personas.secretary_a):
        client.force_login(persona)
        for url in ("/admin/", "/admin/orgs/orgunit/", "/admin/orgs/venue/add/"):
            response = client.get(url)
            assert response.status_code == 302 and "/admin/login/" in response.url, (persona, url)
        response = client.post("/admin/orgs/venue/add/", venue_form(personas.tree.community_a, "越权场所"))
        assert response.status_code == 302
    assert not Venue.objects.filter(name="越权场所").exists()
    client.force_login(personas.superuser)
    assert client.get("/admin/orgs/orgunit/").status_code == 200


def test_granting_the_street_admin_role_gives_no_admin_site_access(personas):
    from kangle.accounts import services
    from kangle.core.roles import Role
    from personas import make_user

    user = make_user("new_admin")
    services.role_assign(
        actor=personas.superuser, user=user, role=Role.STREET_ADMIN, org=personas.tree.street
    )
    user.refresh_from_db()
    assert not user.is_staff
