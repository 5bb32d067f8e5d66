"""/api/v1/posts: happy paths, anonymous, the outsider (404), wrong roles (403), and bad input."""

from __future__ import annotations

import pytest

from kangle.posts.models import Claim, Post, ServiceAspect

from .conftest import make_member, make_post, post_raw

pytestmark = pytest.mark.django_db


def _body(org, **overrides):
    raw = post_raw(org, **overrides)
    raw.pop("sessions")
    raw["ends_on"] = raw["ends_on"] or None
    raw["venue"] = None
    return raw


def test_catalogue_read_and_edit(client, api, personas):
    assert api.get("/posts/catalogue").status_code == 401
    client.force_login(personas.member)
    body = api.get("/posts/catalogue").json()
    assert [len(c["aspects"]) for c in body["items"]] == [3, 3, 3] and body["count"] == 3
    assert api.patch("/posts/catalogue/aspects/civic", {"name": "x"}).status_code == 403
    # The catalogue is shared by both streets of the tree: one street's admin may not rename it.
    client.force_login(personas.street_admin)
    assert api.patch("/posts/catalogue/aspects/civic", {"name": "x"}).status_code == 403
    assert api.patch("/posts/catalogue/categories/helping", {"is_active": False}).status_code == 403
    client.force_login(personas.superuser)
    response = api.patch("/posts/catalogue/aspects/civic", {"name": "新时代文明实践", "sort_order": 5})
    assert response.status_code == 200 and response.json()["name"] == "新时代文明实践"
    assert api.patch("/posts/catalogue/aspects/civic", {"name": " "}).json()["field"] == "name"
    assert api.patch("/posts/catalogue/categories/helping", {"is_active": False}).json()["is_active"] is False
    assert api.patch("/posts/catalogue/aspects/nope", {"name": "x"}).status_code == 404


def test_create_list_detail_and_scope(client, api, personas, django_assert_num_queries):
    t = personas.tree
    client.force_login(personas.secretary_a)
    response = api.post(
        "/posts/",
        {
            **_body(t.community_a),
            "publish": True,
            "sessions": [{"starts_at": "2026-12-05T09:00:00+08:00", "ends_at": "2026-12-05T11:00:00+08:00"}],
        },
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["status"] == "open" and len(response.json()["sessions"]) == 1
    assert api.get(f"/posts/{pk}").json()["title"] == "爱心益剪"
    with django_assert_num_queries(2):  # session + user + roles, page (not full: its rows are the count)
        assert len(api.get("/posts/").json()["items"]) == 1
    make_post(personas.secretary_a, t.community_a, title="二")
    make_post(personas.secretary_a, t.community_a, title="三")
    with django_assert_num_queries(2):  # flat: the same two with three rows
        assert len(api.get("/posts/").json()["items"]) == 3
    client.force_login(personas.secretary_b)
    assert api.get(f"/posts/{pk}").status_code == 404
    assert api.get("/posts/").json()["items"] == []
    assert api.post(f"/posts/{pk}/status/close").status_code == 404
    assert api.get(f"/posts/{pk}/candidates").status_code == 404
    client.force_login(personas.grid_leader)  # staff of a grid: a community's post lies above their subtree
    assert api.get(f"/posts/{pk}").status_code == 404
    client.force_login(personas.member)
    assert api.get("/posts/").status_code == 403
    assert api.post(f"/posts/{pk}/status/close").status_code == 403
    client.logout()
    assert api.get("/posts/").status_code == 401


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"difficulty": 9}, "difficulty"),
        ({"ends_on": "2025-01-01"}, "ends_on"),
        ({"weekly_slots": []}, "weekly_slots"),
    ],
)
def test_bad_input_names_the_field(client, api, personas, overrides, field):
    client.force_login(personas.secretary_a)
    response = api.post("/posts/", {**_body(personas.tree.community_a), **overrides})
    assert response.status_code == 400 and response.json()["field"] == field
    assert response.json()["message"] and response.json()["message_en"]
    response = api.post(
        "/posts/",
        {
            **_body(personas.tree.community_a),
            "sessions": [{"starts_at": "2026-12-05T11:00:00+08:00", "ends_at": "2026-12-05T09:00:00+08:00"}],
        },
    )
    assert response.json()["code"] == "schedule_ends_before_start"
    assert Post.objects.count() == 0


def test_capacity_below_claims_via_api(client, api, personas, kj_member):
    t = personas.tree
    post = make_post(personas.secretary_a, t.community_a, capacity=2)
    client.force_login(personas.member)
    assert api.post(f"/posts/{post.pk}/claim").status_code == 201
    client.force_login(personas.secretary_a)
    make_member(t.community_a, slots=["sat_am"])
    response = api.patch(f"/posts/{post.pk}", {**_body(t.community_a), "capacity": 0})
    assert response.json()["field"] == "capacity"
    response = api.patch(f"/posts/{post.pk}", {**_body(t.community_a), "capacity": 1})
    assert response.status_code == 200 and response.json()["status"] == "full"


def test_member_claims_withdraws_and_sees_recommendations(client, api, personas, kj_member):
    t = personas.tree
    post = make_post(personas.secretary_a, t.community_a, preferred_skills=["haircut"])
    outside = make_post(personas.secretary_b, t.community_b)
    draft = make_post(personas.secretary_a, t.community_a, publish=False, weekly_slots=["sun_pm"])
    client.force_login(personas.member)
    recs = api.get("/posts/recommendations").json()["items"]
    assert [r["id"] for r in recs] == [post.pk] and "理发" in recs[0]["reasons"]
    assert api.post(f"/posts/{outside.pk}/claim").status_code == 404
    assert api.post(f"/posts/{draft.pk}/claim").status_code == 404
    response = api.post(f"/posts/{post.pk}/claim")
    assert response.status_code == 201
    again = api.post(f"/posts/{post.pk}/claim")
    assert again.status_code == 409 and again.json()["code"] == "already_claimed"
    claim_id = response.json()["id"]
    assert [c["id"] for c in api.get("/posts/mine").json()["items"]] == [claim_id]
    assert api.post(f"/posts/claims/{claim_id}/withdraw", {"reason": "出差"}).json()["status"] == "withdrawn"
    client.force_login(personas.resident)
    assert api.get("/posts/recommendations").status_code == 404
    assert api.post(f"/posts/{post.pk}/claim").status_code == 404
    assert api.post(f"/posts/claims/{claim_id}/withdraw").status_code == 404


def test_staff_confirm_remove_candidates_invite(client, api, personas, kj_member):
    t = personas.tree
    post = make_post(personas.secretary_a, t.community_a, needs_confirmation=True)
    client.force_login(personas.member)
    claim_id = api.post(f"/posts/{post.pk}/claim").json()["id"]
    other = make_member(t.community_a, skills=["haircut"], slots=["sat_am"], name="王五")
    client.force_login(personas.secretary_b)
    assert api.post(f"/posts/claims/{claim_id}/confirm").status_code == 404
    client.force_login(personas.grid_leader)
    assert api.post(f"/posts/claims/{claim_id}/confirm").status_code == 404
    client.force_login(personas.member)
    assert api.post(f"/posts/claims/{claim_id}/confirm").status_code == 403
    client.force_login(personas.secretary_a)
    assert api.post(f"/posts/claims/{claim_id}/confirm").json()["status"] == "confirmed"
    assert api.post(f"/posts/claims/{claim_id}/remove", {"reason": ""}).json()["field"] == "reason"
    assert api.post(f"/posts/claims/{claim_id}/remove", {"reason": "调岗"}).json()["status"] == "removed"
    candidates = api.get(f"/posts/{post.pk}/candidates").json()["items"]
    assert other.pk in [c["id"] for c in candidates]
    assert api.post(f"/posts/{post.pk}/invitations", {"member_id": other.pk}).status_code == 201
    assert api.post(f"/posts/{post.pk}/invitations", {"member_id": other.pk}).status_code == 409
    assert [c["status"] for c in api.get(f"/posts/{post.pk}/claims").json()["items"]] == ["removed"]


def test_bulk_proposal_api(client, api, personas):
    t = personas.tree
    a = make_member(t.community_a, skills=["haircut"], slots=["sat_am"])
    post = make_post(personas.secretary_a, t.community_a, capacity=1, preferred_skills=["haircut"])
    client.force_login(personas.secretary_b)
    assert api.post("/posts/bulk/proposals", {"post_ids": [post.pk]}).status_code == 404
    client.force_login(personas.secretary_a)
    response = api.post("/posts/bulk/proposals", {"post_ids": [post.pk]})
    assert response.status_code == 201
    body = response.json()
    assert [(i["post_id"], i["member_id"]) for i in body["items"]] == [(post.pk, a.pk)]
    assert body["total_score"] >= body["greedy_score"]
    client.force_login(personas.secretary_b)
    assert api.get(f"/posts/bulk/proposals/{body['id']}").status_code == 404
    assert api.post(f"/posts/bulk/proposals/{body['id']}/confirm", {"items": []}).status_code == 404
    client.force_login(personas.secretary_a)
    done = api.post(
        f"/posts/bulk/proposals/{body['id']}/confirm", {"items": [{"post_id": post.pk, "member_id": a.pk}]}
    )
    assert done.status_code == 200 and Claim.objects.get().member_id == a.pk
    assert ServiceAspect.objects.count() == 9


def test_every_post_list_is_paged_with_a_limit(client, api, personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    t = personas.tree
    for index in range(3):
        make_post(personas.secretary_a, t.community_a, title=f"岗位{index}")
    client.force_login(personas.secretary_a)
    first = api.get("/posts/?limit=2").json()
    assert len(first["items"]) == 2 and first["count"] == 3 and first["next"]
    rest = api.get(f"/posts/?limit=2&after={first['next']}").json()
    assert len(rest["items"]) == 1 and not {p["id"] for p in rest["items"]} & {
        p["id"] for p in first["items"]
    }
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/posts/catalogue?limit=2").json()["count"] == 3
    assert any("LIMIT" in q["sql"] and "posts_servicecategory" in q["sql"] for q in queries.captured_queries)
