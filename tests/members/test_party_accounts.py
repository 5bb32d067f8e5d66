"""Employer Party organisation accounts: created by street admins, one account for several branches,
which picks the branch it acts for (never the first one by accident)."""

from __future__ import annotations

import pytest

from kangle.accounts.models import User
from kangle.core.errors import UserError
from kangle.core.models import AuditEvent
from kangle.core.roles import Role
from kangle.members import party_accounts
from kangle.members.models import Employer, EmployerPartyOrg
from personas import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def branches(db):
    employer = Employer.objects.create(name="上海电力公司")
    return [
        EmployerPartyOrg.objects.create(employer=employer, name="电力公司第一党支部"),
        EmployerPartyOrg.objects.create(employer=employer, name="电力公司第二党支部"),
    ]


def test_street_admin_creates_an_account_for_two_branches(personas, branches):
    issued = party_accounts.party_org_account_create(
        actor=personas.street_admin,
        party_orgs=branches,
        org=personas.tree.street,
        username="power_party",
        display_name="电力公司党委",
    )
    user = User.objects.get(pk=issued.user.pk)
    assert user.has_role(Role.EMPLOYER_PARTY_ORG, within=personas.tree.street)
    assert set(EmployerPartyOrg.objects.filter(account=user)) == set(branches)
    assert AuditEvent.objects.filter(verb="party_org.account_link").count() == 2


def test_refusals(personas, branches):
    with pytest.raises(UserError) as not_admin:
        party_accounts.party_org_account_create(
            actor=personas.area_admin,
            party_orgs=branches,
            org=personas.tree.area_1,
            username="x",
            display_name="x",
        )
    assert not_admin.value.status == 404
    with pytest.raises(UserError) as none:
        party_accounts.party_org_account_create(
            actor=personas.street_admin,
            party_orgs=[],
            org=personas.tree.street,
            username="x",
            display_name="x",
        )
    assert none.value.field == "party_orgs"
    with pytest.raises(UserError) as taken:
        party_accounts.party_org_account_create(
            actor=personas.street_admin,
            party_orgs=branches,
            org=personas.tree.street,
            username="member",
            display_name="x",
        )
    assert taken.value.field == "username"
    with pytest.raises(UserError) as not_employer:
        party_accounts.party_org_account_link(
            actor=personas.street_admin, party_orgs=branches, user=personas.member
        )
    assert not_employer.value.code == "not_employer_account"
    assert not EmployerPartyOrg.objects.filter(account__isnull=False).exists()


def test_an_account_with_two_branches_names_the_one_it_acts_for(client, personas, branches):
    party_accounts.party_org_account_link(
        actor=personas.street_admin, party_orgs=branches, user=personas.employer
    )
    client.force_login(personas.employer)
    response = client.get("/activities/party/calls/")
    assert response.status_code == 200 and response.context["party_org"] is None  # not guessed
    response = client.get("/activities/party/calls/", {"party_org": branches[1].pk})
    assert response.context["party_org"] == branches[1]
    other = EmployerPartyOrg.objects.create(employer=branches[0].employer, name="别家支部")
    assert client.get("/activities/party/calls/", {"party_org": other.pk}).status_code == 404


def test_pages_and_api(client, api, personas, branches):
    client.force_login(personas.street_admin)
    assert client.get("/members/party-orgs/").status_code == 200
    response = client.post(
        "/members/party-orgs/",
        {
            "party_orgs": [branches[0].pk],
            "display_name": "一支部",
            "username": "branch_1",
            "phone": "",
            "org": "KJ",
        },
    )
    assert response.status_code == 200 and b'data-testid="one-time-code"' in response.content
    response = api.post(
        "/party-orgs/accounts",
        {"party_orgs": [branches[1].pk], "org_code": "KJ", "username": "branch_2", "display_name": "二支部"},
    )
    assert response.status_code == 201 and response.json()["one_time_code"]
    response = api.post("/party-orgs/link", {"party_orgs": [branches[0].pk], "username": "branch_2"})
    assert response.status_code == 200
    assert EmployerPartyOrg.objects.get(pk=branches[0].pk).account.username == "branch_2"
    response = api.post(
        "/party-orgs/accounts",
        {"party_orgs": [branches[1].pk], "org_code": "HN", "username": "far", "display_name": "x"},
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "who", ["anonymous", "member", "secretary_a", "area_admin", "employer", "other_admin"]
)
def test_wrong_roles_and_outsiders_get_nothing(client, api, personas, branches, who):
    if who == "other_admin":
        # Another street's admin may keep Party organisations too, but only with units of their own street.
        client.force_login(make_user("hn_admin", Role.STREET_ADMIN, personas.tree.other_street))
        response = api.post(
            "/party-orgs/accounts",
            {"party_orgs": [branches[0].pk], "org_code": "KJ", "username": "sneak", "display_name": "x"},
        )
        assert response.status_code == 404
        assert not User.objects.filter(username="sneak").exists()
        return
    if who != "anonymous":
        client.force_login(getattr(personas, who))
    expected_page = 302 if who == "anonymous" else 404
    assert client.get("/members/party-orgs/").status_code == expected_page
    assert client.post("/members/party-orgs/link/", {"username": "employer"}).status_code == expected_page
    expected = 401 if who == "anonymous" else 404
    assert api.get("/party-orgs/").status_code == expected
    assert (
        api.post("/party-orgs/link", {"party_orgs": [branches[0].pk], "username": "employer"}).status_code
        == expected
    )
    assert not EmployerPartyOrg.objects.filter(account__isnull=False).exists()
