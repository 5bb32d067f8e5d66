"""The workbench forms that add a unit and move a unit: street admins only, inside their scope."""

import pytest

from kangle.orgs.models import OrgUnit

pytestmark = pytest.mark.django_db


def test_street_admin_adds_a_child_unit_from_the_unit_page(client, personas):
    client.force_login(personas.street_admin)
    page = client.get(f"/orgs/units/{personas.tree.community_b.code}/")
    assert b'data-testid="add-child"' in page.content
    response = client.post(
        f"/orgs/units/{personas.tree.community_b.code}/add-child/",
        {"kind": "estate", "code": "KJ-C08-E9", "name": "新小区"},
    )
    assert response.status_code == 302
    assert OrgUnit.objects.get(code="KJ-C08-E9").path == personas.tree.community_b.path + "KJ-C08-E9/"


def test_a_bad_child_is_refused_with_a_message_and_nothing_written(client, personas):
    client.force_login(personas.street_admin)
    response = client.post(
        f"/orgs/units/{personas.tree.community_b.code}/add-child/",
        {"kind": "area", "code": "BAD-1", "name": "错层"},
    )
    assert response.status_code == 400
    assert "不能设在" in response.content.decode()
    assert not OrgUnit.objects.filter(code="BAD-1").exists()


def test_moving_a_unit_under_its_own_descendant_is_refused_on_the_page(client, personas):
    client.force_login(personas.street_admin)
    response = client.post(
        f"/orgs/units/{personas.tree.community_a.code}/move/", {"parent_code": personas.tree.estate_a.code}
    )
    assert response.status_code == 400
    assert "不能把节点移到它自己或它的下级之下" in response.content.decode()
    assert OrgUnit.objects.get(pk=personas.tree.community_a.pk).parent_id == personas.tree.area_1.pk


def test_moving_a_community_to_another_area_moves_its_subtree(client, personas):
    client.force_login(personas.street_admin)
    response = client.post(f"/orgs/units/{personas.tree.community_a.code}/move/", {"parent_code": "KJ-A2"})
    assert response.status_code == 302
    grid = OrgUnit.objects.get(pk=personas.tree.grid_a.pk)
    assert grid.path.startswith("/XH/KJ/KJ-A2/KJ-C01/")


@pytest.mark.parametrize("who", ["secretary_a", "area_admin", "member"])
def test_others_see_no_forms_and_cannot_post(client, personas, who):
    client.force_login(getattr(personas, who))
    page = client.get(f"/orgs/units/{personas.tree.community_a.code}/")
    assert b'data-testid="add-child"' not in page.content
    response = client.post(
        f"/orgs/units/{personas.tree.community_a.code}/add-child/",
        {"kind": "estate", "code": "X-1", "name": "x"},
    )
    # Inside their scope but not theirs to change: the form comes back with the refusal; outside: 404.
    assert response.status_code in (400, 404)
    assert not OrgUnit.objects.filter(code="X-1").exists()


def test_outsider_gets_404_on_the_forms_of_another_community(client, personas):
    client.force_login(personas.secretary_b)
    for path in ("add-child", "move"):
        response = client.post(
            f"/orgs/units/{personas.tree.community_a.code}/{path}/", {"parent_code": "KJ-A2"}
        )
        assert response.status_code == 404
