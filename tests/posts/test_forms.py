"""Bad input on the posts pages: refused at the edge with a message in Chinese and English naming the field,
and nothing written."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kangle.posts import services
from kangle.posts.models import BulkProposal, Claim, ClaimStatus, ServiceAspect

from .conftest import make_member, make_post

pytestmark = pytest.mark.django_db


def _said(response, *words) -> bool:
    page = response.content.decode()
    return all(word in page for word in words)


def test_catalogue_refuses_a_sort_order_that_is_not_a_number(client, personas):
    client.force_login(personas.superuser)
    before = ServiceAspect.objects.get(code="care")
    response = client.post(
        reverse("posts:catalogue"),
        {"kind": "aspect", "code": "care", "name": "改名", "sort_order": "第四", "is_active": "on"},
        follow=True,
    )
    assert _said(response, "排序：", "Sort order: ")
    after = ServiceAspect.objects.get(code="care")
    assert (after.name, after.sort_order, after.is_active) == (
        before.name,
        before.sort_order,
        before.is_active,
    )


def test_removing_a_claim_refuses_an_overlong_reason(client, personas, kj_member):
    post = make_post(personas.secretary_a, personas.tree.community_a)
    claim = services.claim_create(actor=personas.member, post=post)
    client.force_login(personas.secretary_a)
    response = client.post(
        reverse("posts:claim-action", args=[claim.pk, "remove"]), {"reason": "长" * 301}, follow=True
    )
    assert _said(response, "原因：", "Reason: ")
    claim.refresh_from_db()
    assert claim.status != ClaimStatus.REMOVED and claim.reason == ""


def test_withdrawing_refuses_an_overlong_reason(client, personas, kj_member):
    post = make_post(personas.secretary_a, personas.tree.community_a)
    claim = services.claim_create(actor=personas.member, post=post)
    client.force_login(personas.member)
    response = client.post(
        reverse("posts:claim-action", args=[claim.pk, "withdraw"]), {"reason": "长" * 301}, follow=True
    )
    assert _said(response, "原因：", "Reason: ")
    claim.refresh_from_db()
    assert claim.status != ClaimStatus.WITHDRAWN


def test_bulk_start_refuses_a_post_that_is_not_a_number(client, personas):
    make_post(personas.secretary_a, personas.tree.community_a)
    client.force_login(personas.secretary_a)
    response = client.post(reverse("posts:bulk"), {"posts": ["一号"]})
    assert response.status_code == 200 and _said(response, "岗位：", "Posts: ")
    assert not BulkProposal.objects.exists()


def test_bulk_proposal_refuses_a_malformed_pair(client, personas):
    t = personas.tree
    make_member(t.community_a, skills=["haircut"], slots=["sat_am"], name="甲")
    post = make_post(personas.secretary_a, t.community_a, capacity=1)
    client.force_login(personas.secretary_a)
    client.post(reverse("posts:bulk"), {"posts": [str(post.pk)]})
    proposal = BulkProposal.objects.get()
    response = client.post(reverse("posts:bulk-proposal", args=[proposal.pk]), {"keep": [f"{post.pk}:甲"]})
    assert response.status_code == 200 and _said(response, "建议人选：", "Proposed members: ")
    response = client.post(reverse("posts:bulk-proposal", args=[proposal.pk]), {f"add_{post.pk}": "x"})
    assert _said(response, f"{post.title}：", f"{post.title}: ")
    assert not Claim.objects.exists()
