"""Recognition pages: letters (workbench and employer), nominations, the member's honours, public stories."""

from __future__ import annotations

import datetime as dt

import pytest

from kangle.recognition import services
from points.conftest import T0, award, make_member

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


def test_letter_pages_flow(client, personas, served):
    client.force_login(personas.secretary_a)
    page = client.get("/recognition/letters/").content.decode()
    assert f'<option value="{served.pk}">' in page
    response = client.post("/recognition/letters/draft/", {"member": served.pk})
    letter_url = response["Location"]
    page = client.get(letter_url).content.decode()
    assert "35" in page and 'data-testid="evidence"' in page and 'id="letter-issue"' not in page
    client.force_login(personas.street_admin)
    client.post(letter_url, {"action": "issue"})
    client.post(letter_url, {"action": "send"})
    page = client.get(letter_url).content.decode()
    assert "康健党工委表〔" in page and "party@example.com" in page
    pdf = client.get(letter_url + "pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    client.force_login(personas.employer)
    assert client.get(letter_url).status_code == 200
    assert 'data-testid="evidence"' not in client.get(letter_url).content.decode()
    client.force_login(personas.secretary_b)
    assert client.get(letter_url).status_code == 404
    assert client.get(letter_url + "pdf/").status_code == 404
    client.force_login(personas.member)
    assert client.get("/recognition/letters/").status_code == 403
    client.logout()
    assert client.get("/recognition/letters/").status_code == 302


def test_draft_page_shows_error_for_no_service(client, personas, member_a, rule):
    client.force_login(personas.secretary_a)
    page = client.post("/recognition/letters/draft/", {"member": member_a.pk}, follow=True).content.decode()
    assert "没有经核实的服务记录" in page
    client.force_login(personas.secretary_b)
    assert client.post("/recognition/letters/draft/", {"member": member_a.pk}).status_code == 404


@pytest.mark.parametrize("rows", [1, 3])
def test_letters_list_query_count(client, personas, party_org, rule, rows, django_assert_num_queries):
    for i in range(rows):
        m = make_member(personas.tree.community_a, name=f"党员{i}", party_org=party_org)
        award(m, f"x{i}")
        services.letter_draft(actor=personas.secretary_a, member=m, now=T0 + dt.timedelta(days=1))
    client.force_login(personas.secretary_a)
    client.get("/recognition/letters/")
    with django_assert_num_queries(3):
        page = client.get("/recognition/letters/")
    assert page.content.decode().count("/recognition/letters/") >= rows


def test_nominations_page_and_member_file(client, personas, served):
    nomination = services.nominate(
        actor=personas.secretary_a, member=served, honour="excellent_member", reason="义剪"
    )
    client.force_login(personas.area_admin)
    client.post("/recognition/nominations/", {"nomination": nomination.pk, "action": "approve"})
    client.force_login(personas.street_admin)
    client.post("/recognition/nominations/", {"nomination": nomination.pk, "action": "approve"})
    client.post(
        "/recognition/nominations/",
        {"nomination": nomination.pk, "action": "result", "honoured": "1", "result": "区优秀共产党员"},
    )
    client.force_login(personas.member)
    page = client.get("/recognition/me/").content.decode()
    assert "区优秀共产党员" in page
    client.force_login(personas.secretary_b)
    assert "义剪" not in client.get("/recognition/nominations/").content.decode()
    assert (
        client.post(
            "/recognition/nominations/", {"nomination": nomination.pk, "action": "approve"}
        ).status_code
        == 404
    )
    client.force_login(personas.member)
    assert client.get("/recognition/nominations/").status_code == 403


def test_public_stories(client, personas, served):
    story = services.story_create(
        actor=personas.secretary_a,
        org=personas.tree.community_a,
        title="剪出邻里温情",
        summary="每月义剪",
        body="正文第一段",
        members=[served],
    )
    assert client.get(f"/recognition/stories/{story.pk}/").status_code == 404  # draft
    services.story_publish(actor=personas.secretary_a, story=story)
    assert "剪出邻里温情" in client.get("/recognition/stories/").content.decode()
    assert "正文第一段" in client.get(f"/recognition/stories/{story.pk}/").content.decode()
