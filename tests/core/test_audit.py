"""Services write audit events explicitly: who, verb, object, when, details — and nothing when refused."""

from __future__ import annotations

import datetime as dt

import pytest

from kangle.accounts import services as account_services
from kangle.accounts.models import User
from kangle.core.errors import UserError
from kangle.core.models import AuditEvent
from kangle.core.roles import Role
from kangle.orgs import services as org_services
from kangle.orgs.models import OrgKind

pytestmark = pytest.mark.django_db

WHEN = dt.datetime(2026, 4, 1, 2, 0, tzinfo=dt.UTC)


def admin(personas) -> User:
    return User.objects.get(pk=personas.street_admin.pk)


def events(verb):
    return list(AuditEvent.objects.filter(verb=verb))


def test_orgunit_create_and_move_are_audited(personas):
    tree = personas.tree
    AuditEvent.objects.all().delete()
    unit = org_services.orgunit_create(
        actor=admin(personas),
        kind=OrgKind.ESTATE,
        code="KJ-C08-E2",
        name="桂林苑2小区",
        parent=tree.community_b,
        now=WHEN,
    )
    [created] = events("orgunit.create")
    assert created.actor_id == personas.street_admin.pk
    assert (created.object_type, created.object_id) == ("orgs.orgunit", str(unit.pk))
    assert created.object_repr == "桂林苑2小区"
    assert created.org_path == "/XH/KJ/KJ-A2/KJ-C08/KJ-C08-E2/"
    assert created.at == WHEN
    assert created.details == {"kind": "estate", "code": "KJ-C08-E2"}

    org_services.orgunit_move(actor=admin(personas), unit=unit, new_parent=tree.community_a, now=WHEN)
    [moved] = events("orgunit.move")
    assert moved.details == {"from": "KJ-C08", "to": "KJ-C01", "old_path": "/XH/KJ/KJ-A2/KJ-C08/KJ-C08-E2/"}
    assert moved.org_path == "/XH/KJ/KJ-A1/KJ-C01/KJ-C08-E2/"


def test_a_refused_change_writes_no_event(personas):
    AuditEvent.objects.all().delete()
    with pytest.raises(UserError):
        org_services.orgunit_move(
            actor=admin(personas), unit=personas.tree.area_1, new_parent=personas.tree.community_a
        )
    with pytest.raises(UserError):
        org_services.orgunit_create(
            actor=admin(personas),
            kind=OrgKind.ESTATE,
            code="KJ-C08-E1",
            name="重复",
            parent=personas.tree.community_b,
        )
    assert not AuditEvent.objects.exists()


def test_update_is_audited_with_the_changes(personas):
    AuditEvent.objects.all().delete()
    org_services.orgunit_update(actor=admin(personas), unit=personas.tree.community_b, name="桂林苑新居民区")
    [updated] = events("orgunit.update")
    assert updated.details == {"name": ["桂林苑居民区", "桂林苑新居民区"]}
    org_services.orgunit_update(actor=admin(personas), unit=personas.tree.community_b, name="桂林苑新居民区")
    assert len(events("orgunit.update")) == 1  # no change, no event


def test_token_issue_and_revoke_are_audited(personas):
    AuditEvent.objects.all().delete()
    row, token = account_services.token_issue(
        actor=admin(personas), user=personas.secretary_a, name="大屏", now=WHEN
    )
    [issued] = events("token.issue")
    assert issued.actor_id == personas.street_admin.pk
    assert issued.object_id == str(row.pk)
    assert issued.details == {"acts_as": "secretary_a"}
    assert token not in str(issued.details) and token not in issued.object_repr
    account_services.token_revoke(actor=admin(personas), token=row, now=WHEN)
    account_services.token_revoke(actor=admin(personas), token=row, now=WHEN)  # twice: one event
    assert len(events("token.revoke")) == 1


def test_role_assign_is_audited(personas):
    AuditEvent.objects.all().delete()
    assignment = account_services.role_assign(
        actor=admin(personas), user=personas.member, role=Role.GRID_LEADER, org=personas.tree.grid_a, now=WHEN
    )
    [assigned] = events("role.assign")
    assert assigned.actor_id == personas.street_admin.pk
    assert assigned.object_type == "accounts.roleassignment"
    assert assigned.object_id == str(assignment.pk)
    assert assigned.details == {"role": "grid_leader", "org": "KJ-C01-E1-G1"}
    assert assigned.org_path == personas.tree.grid_a.path
    account_services.role_revoke(actor=admin(personas), assignment=assignment)
    assert len(events("role.revoke")) == 1


def test_role_assign_outside_the_actors_scope_is_refused_and_not_audited(personas):
    AuditEvent.objects.all().delete()
    area_admin = User.objects.get(pk=personas.area_admin.pk)
    with pytest.raises(UserError):
        account_services.role_assign(
            actor=area_admin, user=personas.member, role=Role.COMMUNITY_STAFF, org=personas.tree.community_b
        )
    with pytest.raises(UserError):  # inside the area, but not a role an area admin hands out
        account_services.role_assign(
            actor=area_admin, user=personas.member, role=Role.STREET_ADMIN, org=personas.tree.community_a
        )
    assert not AuditEvent.objects.exists()
    account_services.role_assign(
        actor=area_admin, user=personas.member, role=Role.COMMUNITY_STAFF, org=personas.tree.community_a
    )
    assert len(events("role.assign")) == 1


def test_user_create_is_audited_without_the_phone(personas):
    AuditEvent.objects.all().delete()
    user = account_services.user_create(
        actor=admin(personas), username="new_person", password="a long passphrase 42", phone="13911112222"
    )
    [created] = events("user.create")
    assert created.object_id == str(user.pk)
    assert "13911112222" not in f"{created.details} {created.object_repr}"
