"""People and roles from the workbench: accounts, roles, one-time codes, scoped like everything else."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from kangle.accounts.models import RoleAssignment, User
from kangle.core.errors import NotAllowed, UserError
from kangle.core.models import AuditEvent
from kangle.core.roles import Role
from kangle.notify.models import Notification, OutboxMessage
from kangle.people import services
from personas import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_admin(tree):
    """The street admin of 湖南街道: an outsider for everything in 康健街道."""
    return make_user("hn_admin", Role.STREET_ADMIN, tree.other_street)


def fresh(user):
    return User.objects.get(pk=user.pk)


def create_secretary(personas, **extra):
    fields = {
        "username": "new_sec",
        "display_name": "王书记",
        "phone": "13911112222",
        "role": Role.COMMUNITY_SECRETARY,
        "org": personas.tree.community_a,
    }
    fields.update(extra)
    return services.staff_account_create(actor=fresh(personas.street_admin), **fields)


# --- services ------------------------------------------------------------------------------------------------


def test_street_admin_creates_a_secretary_with_a_one_time_code(personas):
    issued = create_secretary(personas)
    user = fresh(issued.user)
    assert user.has_role(Role.COMMUNITY_SECRETARY, within=personas.tree.community_a)
    assert user.must_change_password and user.one_time_code_expires_at is not None
    assert user.check_password(issued.code)
    assert AuditEvent.objects.filter(verb="user.create", object_id=str(user.pk)).exists()
    assert AuditEvent.objects.filter(verb="role.assign", details__role=Role.COMMUNITY_SECRETARY).exists()
    notice = Notification.objects.get(recipient=user)
    assert issued.code in notice.body
    assert OutboxMessage.objects.filter(reference=f"accounts.user:{user.pk}").count() == 1


def test_taken_username_and_phone_are_field_errors(personas):
    with pytest.raises(UserError) as taken:
        create_secretary(personas, username="secretary_a", phone="")
    assert taken.value.field == "username"
    with pytest.raises(UserError) as phone:
        create_secretary(personas, phone="13900000003")
    assert phone.value.field == "phone"
    assert not User.objects.filter(username="new_sec").exists()


def test_outside_the_subtree_is_a_404_and_above_ones_own_is_refused(personas, other_admin):
    area_admin = fresh(personas.area_admin)
    with pytest.raises(UserError) as outside:
        services.staff_account_create(
            actor=area_admin,
            username="x1",
            display_name="x",
            phone="",
            role=Role.COMMUNITY_SECRETARY,
            org=personas.tree.community_b,
        )
    assert outside.value.status == 404
    with pytest.raises(NotAllowed):
        services.staff_account_create(
            actor=area_admin,
            username="x2",
            display_name="x",
            phone="",
            role=Role.STREET_ADMIN,
            org=personas.tree.community_a,
        )
    with pytest.raises(UserError) as other_street:
        services.role_grant(
            actor=fresh(other_admin), user=personas.member, role=Role.GRID_LEADER, org=personas.tree.grid_a
        )
    assert other_street.value.status == 404
    assert not User.objects.filter(username__in=["x1", "x2"]).exists()


def test_disabling_oneself_or_the_last_street_admin_is_refused(personas):
    admin = fresh(personas.street_admin)
    with pytest.raises(UserError) as itself:
        services.account_disable(actor=admin, user=admin)
    assert itself.value.code == "disable_self"
    second = create_secretary(
        personas, username="admin2", phone="", role=Role.STREET_ADMIN, org=personas.tree.street
    )
    # The second admin may not disable the first while ... there are two: allowed.
    services.account_disable(actor=fresh(second.user), user=admin, reason="调岗")
    assert not fresh(admin).is_active
    # Now the second one is the last: the superuser cannot disable them, nor revoke their role.
    with pytest.raises(UserError) as last:
        services.account_disable(actor=fresh(personas.superuser), user=fresh(second.user))
    assert last.value.code == "last_street_admin"
    assignment = RoleAssignment.objects.get(user=second.user, role=Role.STREET_ADMIN)
    with pytest.raises(UserError):
        services.role_withdraw(actor=fresh(personas.superuser), assignment=assignment)
    assert AuditEvent.objects.filter(verb="user.disable", object_id=str(admin.pk)).exists()
    assert Notification.objects.filter(recipient=admin, title="您的账号已停用").exists()


def test_area_admin_cannot_disable_someone_holding_a_street_role(personas):
    # The street admin also holds a community role inside the area admin's area.
    services.role_grant(
        actor=fresh(personas.street_admin),
        user=personas.street_admin,
        role=Role.COMMUNITY_STAFF,
        org=personas.tree.community_a,
    )
    with pytest.raises(NotAllowed):
        services.account_disable(actor=fresh(personas.area_admin), user=fresh(personas.street_admin))
    services.account_disable(actor=fresh(personas.area_admin), user=fresh(personas.secretary_a))
    assert not fresh(personas.secretary_a).is_active


def test_revoke_writes_audit_and_tells_the_person(personas):
    assignment = RoleAssignment.objects.get(user=personas.grid_leader, role=Role.GRID_LEADER)
    services.role_withdraw(actor=fresh(personas.area_admin), assignment=assignment)
    assert not RoleAssignment.objects.get(pk=assignment.pk).is_active
    assert AuditEvent.objects.filter(verb="role.revoke", object_id=str(assignment.pk)).exists()
    assert Notification.objects.filter(recipient=personas.grid_leader, title="您的角色已被撤销").exists()


def test_password_reset_gives_a_one_time_code_that_expires(client, personas):
    code = services.password_reset(actor=fresh(personas.street_admin), user=personas.secretary_a)
    user = fresh(personas.secretary_a)
    assert user.must_change_password and not user.check_password(PASSWORD)
    assert AuditEvent.objects.filter(verb="user.password_reset", object_id=str(user.pk)).exists()
    later = user.one_time_code_expires_at + dt.timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        response = client.post("/accounts/login/", {"username": "secretary_a", "password": code})
    assert response.status_code == 200  # the login form again: an expired code opens nothing
    response = client.post("/accounts/login/", {"username": "secretary_a", "password": code})
    assert response.status_code == 302


def test_forced_password_change_at_next_login(client, personas):
    code = services.password_reset(actor=fresh(personas.street_admin), user=personas.secretary_a)
    assert client.post("/accounts/login/", {"username": "secretary_a", "password": code}).status_code == 302
    response = client.get("/members/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/"
    assert client.get("/api/v1/accounts/me").status_code == 403
    response = client.post("/accounts/password/", {"new_password": "short", "repeat_password": "short"})
    assert response.status_code == 400
    new = "a much better passphrase 7"
    response = client.post("/accounts/password/", {"new_password": new, "repeat_password": new})
    assert response.status_code == 302
    user = fresh(personas.secretary_a)
    assert not user.must_change_password and user.check_password(new)
    assert client.get("/api/v1/accounts/me").status_code == 200


def test_appointing_a_grid_leader_replaces_the_previous_one(personas):
    grid = personas.tree.grid_a
    area_admin = fresh(personas.area_admin)
    services.grid_leader_appoint(actor=area_admin, grid=grid, user=personas.member)
    assert set(
        RoleAssignment.objects.filter(role=Role.GRID_LEADER, org=grid, is_active=True).values_list(
            "user__username", flat=True
        )
    ) == {"member"}
    assert Notification.objects.filter(recipient=personas.grid_leader, title="您的角色已被撤销").exists()
    with pytest.raises(UserError) as not_grid:
        services.grid_leader_appoint(actor=area_admin, grid=personas.tree.community_a, user=personas.member)
    assert not_grid.value.code == "not_a_grid"


# --- pages ---------------------------------------------------------------------------------------------------


def test_pages_happy_path(client, personas):
    client.force_login(personas.street_admin)
    assert client.get("/people/").status_code == 200
    assert "secretary_a" in client.get("/people/", {"q": "secretary"}).content.decode()
    assert "secretary_a" in client.get("/people/", {"q": "139 0000 0003"}).content.decode()
    response = client.post(
        "/people/new/",
        {
            "display_name": "李书记",
            "username": "li_sec",
            "phone": "",
            "role": Role.COMMUNITY_SECRETARY,
            "org": "KJ-C01",
        },
    )
    assert response.status_code == 200 and b'data-testid="one-time-code"' in response.content
    li = User.objects.get(username="li_sec")
    assert client.get(f"/people/users/{li.pk}/").status_code == 200
    assert "李书记" in client.get("/people/units/KJ-C01/").content.decode()
    response = client.post(f"/people/users/{li.pk}/reset-password/")
    assert response.status_code == 200 and b'data-testid="one-time-code"' in response.content
    assert client.post(f"/people/users/{li.pk}/disable/", {"reason": "离职"}).status_code == 302
    assert not fresh(li).is_active
    assert client.post(f"/people/users/{li.pk}/enable/").status_code == 302
    assert fresh(li).is_active
    response = client.post(f"/people/users/{li.pk}/grant/", {"role": Role.COMMUNITY_STAFF, "org": "KJ-C01"})
    assert response.status_code == 302
    row = RoleAssignment.objects.get(user=li, role=Role.COMMUNITY_STAFF)
    assert client.post(f"/people/roles/{row.pk}/revoke/").status_code == 302
    assert not RoleAssignment.objects.get(pk=row.pk).is_active
    response = client.post("/people/units/KJ-C01-E1-G1/grid-leader/", {"existing": "li_sec"})
    assert response.status_code == 302
    assert fresh(li).has_role(Role.GRID_LEADER, within=personas.tree.grid_a)
    response = client.post(
        "/people/units/KJ-C01-E1-G1/grid-leader/",
        {"display_name": "赵网格", "username": "zhao_grid", "phone": "13955556666"},
    )
    assert response.status_code == 200 and b'data-testid="one-time-code"' in response.content
    assert not fresh(li).has_role(Role.GRID_LEADER)
    assert b"unit-people-link" in client.get("/orgs/units/KJ-C01-E1-G1/").content


def test_page_form_errors_name_the_field(client, personas):
    client.force_login(personas.street_admin)
    response = client.post(
        "/people/new/",
        {
            "display_name": "x",
            "username": "secretary_a",
            "phone": "",
            "role": Role.GRID_LEADER,
            "org": "KJ-C01",
        },
    )
    assert response.status_code == 400
    assert "该用户名已存在" in response.context["form"].errors["username"][0]
    response = client.post(
        "/people/new/",
        {"display_name": "x", "username": "fresh1", "phone": "", "role": Role.GRID_LEADER, "org": "HN"},
    )
    assert response.status_code == 400 and "org" in response.context["form"].errors


@pytest.mark.parametrize("who", ["anonymous", "member", "secretary_a"])
def test_pages_refuse_anonymous_and_wrong_roles(client, personas, who):
    target = personas.grid_leader
    if who != "anonymous":
        client.force_login(getattr(personas, who))
    for url in [
        "/people/",
        "/people/new/",
        f"/people/users/{target.pk}/",
        "/people/units/KJ-C01/",
    ]:
        response = client.get(url)
        assert response.status_code == (302 if who == "anonymous" else 404), url
    response = client.post(f"/people/users/{target.pk}/disable/")
    assert response.status_code == (302 if who == "anonymous" else 404)
    assert fresh(target).is_active


def test_pages_outsiders_get_404(client, personas, other_admin):
    """Another street's admin and the other area's admin see nothing of community A."""
    area_2_admin = make_user("area2", Role.AREA_ADMIN, personas.tree.area_2)
    assignment = RoleAssignment.objects.get(user=personas.secretary_a)
    for outsider in (other_admin, area_2_admin):
        client.force_login(outsider)
        assert client.get(f"/people/users/{personas.secretary_a.pk}/").status_code == 404
        assert client.get("/people/units/KJ-C01/").status_code == 404
        assert client.post(f"/people/users/{personas.secretary_a.pk}/disable/").status_code == 404
        assert client.post(f"/people/users/{personas.secretary_a.pk}/reset-password/").status_code == 404
        assert client.post(f"/people/roles/{assignment.pk}/revoke/").status_code == 404
        assert (
            client.post("/people/units/KJ-C01-E1-G1/grid-leader/", {"existing": "member"}).status_code == 404
        )
        assert list(client.get("/people/", {"q": "secretary_a"}).context["page"]) == []
    assert fresh(personas.secretary_a).is_active and RoleAssignment.objects.get(pk=assignment.pk).is_active


# --- API -----------------------------------------------------------------------------------------------------


def test_api_happy_path(client, api, personas):
    client.force_login(personas.street_admin)
    response = api.post(
        "/people/accounts",
        {
            "username": "api_sec",
            "display_name": "张书记",
            "role": Role.COMMUNITY_SECRETARY,
            "org_code": "KJ-C01",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    user_id = body["user"]["id"]
    assert body["one_time_code"] and body["user"]["must_change_password"]
    assert api.get(f"/people/users/{user_id}").json()["username"] == "api_sec"
    listed = api.get("/people/assignments", q="api_sec").json()
    assert [row["username"] for row in listed["items"]] == ["api_sec"] and listed["count"] == 1
    response = api.post(
        f"/people/users/{user_id}/roles", {"role": Role.GRID_LEADER, "org_code": "KJ-C01-E1-G1"}
    )
    assert response.status_code == 201
    assert api.post(f"/people/roles/{response.json()['id']}/revoke").json()["is_active"] is False
    assert api.post(f"/people/users/{user_id}/reset-password").json()["one_time_code"]
    assert api.post(f"/people/users/{user_id}/disable", {"reason": "x"}).json()["is_active"] is False
    assert api.post(f"/people/users/{user_id}/enable").json()["is_active"] is True
    response = api.post("/people/units/KJ-C01-E1-G1/grid-leader", {"existing": "api_sec"})
    assert response.status_code == 200 and response.json()["role"] == Role.GRID_LEADER


def test_api_bad_input_and_refusals(client, api, personas):
    client.force_login(personas.area_admin)
    response = api.post(
        "/people/accounts",
        {"username": "secretary_a", "display_name": "x", "role": Role.GRID_LEADER, "org_code": "KJ-C01"},
    )
    assert response.status_code == 400 and response.json()["field"] == "username"
    response = api.post(
        "/people/accounts",
        {"username": "up", "display_name": "x", "role": Role.STREET_ADMIN, "org_code": "KJ-C01"},
    )
    assert response.status_code == 403
    response = api.post(
        "/people/accounts",
        {"username": "far", "display_name": "x", "role": Role.GRID_LEADER, "org_code": "KJ-C08"},
    )
    assert response.status_code == 404
    response = api.post(f"/people/users/{personas.area_admin.pk}/disable", {})
    assert response.status_code == 400 and response.json()["code"] == "disable_self"


@pytest.mark.parametrize("who", ["anonymous", "member", "secretary_b", "other_admin"])
def test_api_refuses_anonymous_wrong_role_and_outsiders(client, api, personas, other_admin, who):
    if who == "other_admin":
        client.force_login(other_admin)
    elif who != "anonymous":
        client.force_login(getattr(personas, who))
    expected = 401 if who == "anonymous" else 404
    target = personas.secretary_a.pk
    assignment = RoleAssignment.objects.get(user=personas.secretary_a)
    assert api.get(f"/people/users/{target}").status_code == expected
    assert api.post(f"/people/users/{target}/disable", {}).status_code == expected
    assert api.post(f"/people/users/{target}/enable").status_code == expected
    assert api.post(f"/people/users/{target}/reset-password").status_code == expected
    assert (
        api.post(f"/people/users/{target}/roles", {"role": "grid_leader", "org_code": "KJ-C01"}).status_code
        == expected
    )
    assert api.post(f"/people/roles/{assignment.pk}/revoke").status_code == expected
    assert api.post("/people/units/KJ-C01-E1-G1/grid-leader", {"existing": "member"}).status_code == expected
    response = api.get("/people/assignments", q="secretary_a")
    assert response.status_code == expected or response.json()["items"] == []
    response = api.post(
        "/people/accounts",
        {"username": "sneaky", "display_name": "x", "role": Role.GRID_LEADER, "org_code": "KJ-C01"},
    )
    assert response.status_code == expected
    assert not User.objects.filter(username="sneaky").exists()
    assert fresh(personas.secretary_a).is_active
