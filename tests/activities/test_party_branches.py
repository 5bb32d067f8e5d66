"""An employer Party organisation account that serves two branches reports for the branch it chooses."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from kangle.activities.models import WhistleResponse
from kangle.members.models import EmployerPartyOrg

from .conftest import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_branch(kit):
    return EmployerPartyOrg.objects.create(
        employer=kit.party_org.employer, name="示例美发公司第二党支部", account=kit.p.employer
    )


def test_the_api_asks_which_branch_and_reports_for_the_chosen_one(kit, client, second_branch):
    make_member(kit.p.tree.community_a, name="周敏", party_org=second_branch)
    call = kit.call()
    with time_machine.travel(call.created_at + dt.timedelta(minutes=1), tick=False):
        client.force_login(kit.p.employer)
        url = f"/api/v1/activities/calls/{call.pk}/collective"
        unsure = client.post(url, {"names": ["周敏"]}, content_type="application/json")
        assert unsure.status_code == 400 and unsure.json()["field"] == "party_org"
        done = client.post(
            url, {"names": ["周敏"], "party_org": second_branch.pk}, content_type="application/json"
        )
        assert done.status_code == 201, done.content
    response = WhistleResponse.objects.get()
    assert response.party_org == second_branch and response.member.name == "周敏"


def test_the_pages_let_the_account_choose_its_branch(kit, client, second_branch):
    make_member(kit.p.tree.community_a, name="周敏", party_org=second_branch)
    call = kit.call()
    with time_machine.travel(call.created_at + dt.timedelta(minutes=1), tick=False):
        client.force_login(kit.p.employer)
        overview = client.get("/activities/party/calls/").content.decode()
        assert (
            f'data-party-org="{second_branch.pk}"' in overview
            and f'data-party-org="{kit.party_org.pk}"' in overview
        )
        chosen = client.get(f"/activities/party/calls/?party_org={second_branch.pk}").content.decode()
        assert f"/activities/party/calls/{call.pk}/?party_org={second_branch.pk}" in chosen
        answer = client.post(
            f"/activities/party/calls/{call.pk}/?party_org={second_branch.pk}", {"names": "周敏"}
        )
        assert answer.status_code == 200
    assert WhistleResponse.objects.get().party_org == second_branch
