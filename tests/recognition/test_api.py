"""/api/v1/recognition: letters, nominations and stories — happy path, anonymous, outsider, wrong role."""

from __future__ import annotations

import pytest

from kangle.notify.models import OutboxMessage
from points.conftest import award

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(member_a, rule):
    award(
        member_a,
        "s1",
        difficulty=4,
        minutes=180,
        evidence={"title": "爱心益剪", "beneficiaries": 35, "rating": 5},
    )
    return member_a


def test_letter_flow(client, api, personas, served):
    client.force_login(personas.secretary_a)
    draft = api.post("/recognition/letters", {"member": served.pk})
    assert draft.status_code == 201 and draft.json()["evidence"]["beneficiaries"] == 35
    lid = draft.json()["id"]
    assert api.patch(f"/recognition/letters/{lid}", {"body": "改写的正文"}).json()["body"] == "改写的正文"
    assert api.post(f"/recognition/letters/{lid}/issue").status_code == 403
    client.force_login(personas.employer)
    assert api.get("/recognition/letters").json()["items"] == []  # drafts are not shown to the employer
    client.force_login(personas.street_admin)
    issued = api.post(f"/recognition/letters/{lid}/issue").json()
    assert issued["number"].endswith("001号")
    sent = api.post(f"/recognition/letters/{lid}/send").json()
    assert sent["dispatches"][0]["channel"] == "email"
    mail = OutboxMessage.objects.get(channel="email", reference=f"letter:{lid}")
    assert mail.to == "party@example.com" and mail.attachment_name.endswith(".pdf")
    pdf = api.get(f"/recognition/letters/{lid}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    client.force_login(personas.employer)
    assert [row["id"] for row in api.get("/recognition/letters").json()["items"]] == [lid]
    assert api.get(f"/recognition/letters/{lid}/pdf").status_code == 200
    assert api.post(f"/recognition/letters/{lid}/send").status_code == 403
    client.force_login(personas.secretary_b)
    assert api.get(f"/recognition/letters/{lid}").status_code == 404
    assert api.get(f"/recognition/letters/{lid}/pdf").status_code == 404
    assert api.get("/recognition/letters").json()["items"] == []
    client.logout()
    assert api.get("/recognition/letters").status_code == 401


def test_letter_without_verified_service_api(client, api, personas, member_a, rule):
    client.force_login(personas.secretary_a)
    refused = api.post("/recognition/letters", {"member": member_a.pk})
    assert refused.status_code == 400 and refused.json()["code"] == "no_verified_service"
    assert "没有经核实的服务记录" in refused.json()["message"]
    client.force_login(personas.secretary_b)
    assert api.post("/recognition/letters", {"member": member_a.pk}).status_code == 404
    client.force_login(personas.member)
    assert api.post("/recognition/letters", {"member": member_a.pk}).status_code == 404


def test_nomination_flow_api(client, api, personas, served, member_b):
    client.force_login(personas.secretary_a)
    made = api.post(
        "/recognition/nominations",
        {"member": served.pk, "honour": "excellent_member", "reason": "每月组织义剪"},
    )
    assert made.status_code == 201
    nid = made.json()["id"]
    assert (
        api.post(
            "/recognition/nominations", {"member": member_b.pk, "honour": "excellent_member", "reason": "x"}
        ).status_code
        == 404
    )
    assert api.post(f"/recognition/nominations/{nid}/review", {"approve": True}).status_code == 403
    client.force_login(personas.secretary_b)
    assert api.post(f"/recognition/nominations/{nid}/review", {"approve": True}).status_code == 404
    assert api.get("/recognition/nominations").json()["items"] == []
    client.force_login(personas.area_admin)
    assert (
        api.post(f"/recognition/nominations/{nid}/review", {"approve": True}).json()["status"]
        == "area_approved"
    )
    client.force_login(personas.street_admin)
    api.post(f"/recognition/nominations/{nid}/review", {"approve": True})
    done = api.post(
        f"/recognition/nominations/{nid}/result",
        {"honoured": True, "result": "区优秀共产党员", "result_on": "2026-07-01"},
    ).json()
    assert done["status"] == "honoured" and [s["step"] for s in done["steps"]][-1] == "result"


def test_stories_api(client, api, personas, served):
    client.force_login(personas.secretary_a)
    made = api.post(
        "/recognition/stories",
        {
            "org": "KJ-C01",
            "title": "剪出邻里温情",
            "body": "正文",
            "members": [served.pk],
            "activity_refs": ["activity:7"],
        },
    )
    assert made.status_code == 201
    client.logout()
    assert api.get("/recognition/stories").json()["items"] == []
    client.force_login(personas.secretary_b)
    assert api.post(f"/recognition/stories/{made.json()['id']}/publish").status_code == 404
    client.force_login(personas.member)
    assert api.post(f"/recognition/stories/{made.json()['id']}/publish").status_code == 404
    client.force_login(personas.secretary_a)
    assert api.post(f"/recognition/stories/{made.json()['id']}/publish").json()["status"] == "published"
    client.logout()
    assert [s["title"] for s in api.get("/recognition/stories").json()["items"]] == ["剪出邻里温情"]
