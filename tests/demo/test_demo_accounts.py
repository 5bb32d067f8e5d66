"""Demo accounts, contractors and employer accounts are made by the same services as the workbench pages."""

from __future__ import annotations

import pytest

from kangle.accounts.models import User
from kangle.cases.models import Contractor
from kangle.core.models import AuditEvent
from kangle.demo import DEMO_PASSWORD, build
from kangle.demo import cases as demo_cases
from kangle.demo import members as demo_members
from kangle.demo.accounts import DEMO_ACCOUNTS
from kangle.members.models import EmployerPartyOrg

pytestmark = pytest.mark.django_db


def test_demo_staff_contractor_and_employer_accounts_come_from_the_services(client, monkeypatch):
    monkeypatch.setitem(demo_cases.SEASON_SIZE, "street", 2)
    monkeypatch.setattr(demo_members, "KJ_MEMBERS", 40)
    build(
        scale="street",
        seed=2024,
        steps=[
            "kangle.demo.orgs.build",
            "kangle.demo.accounts.build",
            "kangle.demo.members.build",
            "kangle.demo.cases.build",
        ],
    )
    for username, _role, _code, _where in DEMO_ACCOUNTS:
        user = User.objects.get(username=username)
        assert not user.must_change_password and user.check_password(DEMO_PASSWORD)
        assert AuditEvent.objects.filter(verb="user.create", object_id=str(user.pk)).exists()
    termite = Contractor.objects.get(name="衡复白蚁防治所")
    assert termite.users.filter(username="hn_contractor").exists()
    assert AuditEvent.objects.filter(verb="contractor.create", object_id=str(termite.pk)).exists()
    assert User.objects.get(username="hn_contractor2").check_password(DEMO_PASSWORD)
    # The employer account serves two branches: the demo shows the choice of branch.
    assert EmployerPartyOrg.objects.filter(account__username="kj_employer").count() == 2
    assert client.login(username="kj_admin", password=DEMO_PASSWORD)
    assert client.get("/people/").status_code == 200
