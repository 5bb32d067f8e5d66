"""Every staff page and endpoint on a post of community A: anonymous, the outsider (secretary_b: 404), a wrong
role (the member: 403), and the owner's secretary (allowed)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kangle.posts import services

from .conftest import make_member, make_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas, kj_member):
    t = personas.tree
    post = make_post(personas.secretary_a, t.community_a, needs_confirmation=True, capacity=3)
    claim = services.claim_create(actor=personas.member, post=post)
    other = make_member(t.community_a, slots=["sat_am"], name="王五")
    proposal = services.proposal_create(actor=personas.secretary_a, org=t.community_a, posts=[post])
    return {
        "post": post.pk,
        "claim": claim.pk,
        "member": other.pk,
        "proposal": proposal.pk,
        "body": {
            "title": "改",
            "aspect": "convenience",
            "org": t.community_a.code,
            "weekly_slots": ["sat_am"],
            "starts_on": "2026-01-01",
            "capacity": 3,
        },
    }


API = [
    ("get", "/posts/{post}", None),
    ("patch", "/posts/{post}", lambda w: w["body"]),
    ("post", "/posts/{post}/status/close", None),
    ("get", "/posts/{post}/claims", None),
    ("get", "/posts/{post}/candidates", None),
    ("post", "/posts/{post}/invitations", lambda w: {"member_id": w["member"]}),
    ("post", "/posts/claims/{claim}/confirm", None),
    ("post", "/posts/claims/{claim}/remove", lambda w: {"reason": "原因"}),
    ("get", "/posts/bulk/proposals/{proposal}", None),
    ("post", "/posts/bulk/proposals/{proposal}/confirm", lambda w: {"items": []}),
    ("post", "/posts/bulk/proposals", lambda w: {"post_ids": [w["post"]]}),
]


def _call(api, world, method, path, body):
    url = path.format(**world)
    if method == "get":
        return api.get(url)
    return getattr(api, method)(url, body(world) if body else None)


@pytest.mark.parametrize(("method", "path", "body"), API)
def test_api_anonymous_outsider_wrong_role_owner(client, api, personas, world, method, path, body):
    assert _call(api, world, method, path, body).status_code == 401
    client.force_login(personas.secretary_b)
    assert _call(api, world, method, path, body).status_code == 404
    client.force_login(personas.member)
    assert _call(api, world, method, path, body).status_code == 403
    client.force_login(personas.secretary_a)
    assert _call(api, world, method, path, body).status_code in (200, 201)


PAGES = [
    ("get", "posts:detail", ["post"]),
    ("get", "posts:edit", ["post"]),
    ("post", "posts:status", ["post", "close"]),
    ("post", "posts:invite", ["post", "member"]),
    ("post", "posts:claim-action", ["claim", "confirm"]),
    ("get", "posts:bulk-proposal", ["proposal"]),
]


@pytest.mark.parametrize(("method", "name", "args"), PAGES)
def test_pages_anonymous_outsider_wrong_role_owner(client, personas, world, method, name, args):
    url = reverse(name, args=[world.get(a, a) for a in args])
    call = getattr(client, method)
    response = call(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(personas.secretary_b)
    assert call(url).status_code == 404
    client.force_login(personas.member)
    assert call(url).status_code == 403
    client.force_login(personas.secretary_a)
    assert call(url).status_code in (200, 302)
