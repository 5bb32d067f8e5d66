"""Ids in request bodies are checked against the actor's scope, and refused ids are never told apart.

Findings: a community secretary's staff check-in accepted a member of another community (and answered
201 / 400 / 404 for approved / unapproved / missing ids); a grid report named out-of-scope members; an
outsider got a 403 (not a 404) for an existing activity.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from kangle.activities.models import Attendance, ServiceRecord, WhistleResponse
from kangle.members.constants import Status

from .conftest import T0, make_member

pytestmark = pytest.mark.django_db


def _check_in(client, activity, member_id):
    return client.post(
        f"/api/v1/activities/{activity.pk}/staff-check-in",
        {"member": member_id},
        content_type="application/json",
    )


def test_staff_check_in_refuses_every_foreign_id_with_the_same_answer(kit, client):
    activity = kit.activity(starts_at=T0)
    foreign = make_member(kit.p.tree.community_b, name="蔡桂荣")
    unapproved = make_member(kit.p.tree.community_b, name="吕瑞", status=Status.PENDING)
    own_unapproved = make_member(kit.p.tree.community_a, name="张丽", status=Status.PENDING)
    with time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False):
        client.force_login(kit.p.secretary_a)
        answers = [
            _check_in(client, activity, pk) for pk in (foreign.pk, unapproved.pk, own_unapproved.pk, 999999)
        ]
        assert {answer.status_code for answer in answers} == {404}
        assert len({answer.content for answer in answers}) == 1
        assert not Attendance.objects.exists() and not ServiceRecord.objects.exists()
        assert _check_in(client, activity, kit.member.pk).status_code == 201


def test_staff_check_in_page_refuses_a_member_of_another_community(kit, client):
    activity = kit.activity(starts_at=T0)
    foreign = make_member(kit.p.tree.community_b, name="蔡桂荣")
    with time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False):
        client.force_login(kit.p.secretary_a)
        answer = client.post(f"/activities/{activity.pk}/do/check-in/", {"member": foreign.pk})
        assert answer.status_code == 404
        assert not Attendance.objects.exists()


def test_grid_report_with_foreign_ids_names_and_counts_nobody(kit, client):
    call = kit.call(grids=[kit.p.tree.grid_a])
    foreign = [make_member(kit.p.tree.community_b, name=name) for name in ("蔡桂荣", "吕瑞")]
    hidden = make_member(kit.p.tree.community_a, name="张丽", status=Status.PENDING)
    client.force_login(kit.p.grid_leader)
    with time_machine.travel(call.created_at + dt.timedelta(minutes=1), tick=False):
        client.force_login(kit.p.grid_leader)
        answer = client.post(
            f"/api/v1/activities/calls/{call.pk}/group",
            {"member_ids": [kit.member.pk, *(m.pk for m in foreign), hidden.pk]},
            content_type="application/json",
        )
    assert answer.status_code == 400
    body = answer.content.decode("unicode_escape")
    assert answer.json()["field"] == "member_ids"
    for name in ("蔡桂荣", "吕瑞", "张丽", "李明"):
        assert name not in body
    for pk in (*(m.pk for m in foreign), hidden.pk):
        assert f"#{pk}" not in body
    assert "3" not in answer.json()["message"] and "2" not in answer.json()["message"]
    assert not WhistleResponse.objects.exists()


def test_an_outsider_gets_404_not_403_for_an_existing_activity(kit, client):
    activity = kit.activity(starts_at=T0)
    for outsider in (kit.p.resident, kit.p.secretary_b, kit.p.contractor):
        client.force_login(outsider)
        for path in (
            f"/api/v1/activities/{activity.pk}/check-in",
            f"/api/v1/activities/{activity.pk}/check-out",
        ):
            existing = client.post(path, {"token": "x"}, content_type="application/json")
            missing = client.post(
                path.replace(str(activity.pk), "999999"), {"token": "x"}, content_type="application/json"
            )
            assert existing.status_code == missing.status_code == 404, (outsider, path)
