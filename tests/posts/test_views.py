"""Pages: workbench (list, detail, form, catalogue, bulk), phone (为你推荐, my posts, post), public 招募令."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kangle.posts.models import BulkProposal, Claim, ClaimStatus, Post, PostStatus, ServiceAspect

from .conftest import make_member, make_post

pytestmark = pytest.mark.django_db


def test_list_page_scoped_and_without_n_plus_one(client, personas, django_assert_num_queries):
    t = personas.tree
    make_post(personas.secretary_a, t.community_a, title="一号岗位", venue=t.venue_a.pk)
    client.force_login(personas.secretary_a)
    client.get(reverse("posts:list"))  # warm the session
    with django_assert_num_queries(4) as one:
        response = client.get(reverse("posts:list"))
    assert "一号岗位" in response.content.decode()
    make_post(personas.secretary_a, t.community_a, title="二号岗位")
    make_post(personas.secretary_a, t.community_a, title="三号岗位")
    with django_assert_num_queries(len(one)):
        client.get(reverse("posts:list"))
    client.force_login(personas.secretary_b)
    assert "一号岗位" not in client.get(reverse("posts:list")).content.decode()


def test_pages_anonymous_outsider_and_wrong_role(client, personas):
    post = make_post(personas.secretary_a, personas.tree.community_a)
    urls = [reverse("posts:detail", args=[post.pk]), reverse("posts:edit", args=[post.pk])]
    for url in urls + [reverse("posts:list"), reverse("posts:bulk")]:
        assert client.get(url).status_code == 302  # to the login page
    client.force_login(personas.secretary_b)
    for url in urls:
        assert client.get(url).status_code == 404
    assert client.post(reverse("posts:status", args=[post.pk, "close"])).status_code == 404
    client.force_login(personas.member)
    for url in urls + [reverse("posts:list"), reverse("posts:catalogue"), reverse("posts:bulk")]:
        assert client.get(url).status_code == 403
    client.force_login(personas.secretary_a)
    assert client.get(reverse("posts:catalogue")).status_code == 403
    assert client.get(reverse("posts:detail", args=[post.pk])).status_code == 200


def test_create_post_through_the_form_and_bad_input(client, personas):
    t = personas.tree
    client.force_login(personas.secretary_a)
    form = {
        "title": "爱心益剪",
        "aspect": "convenience",
        "org": t.community_a.code,
        "venue": str(t.venue_a.pk),
        "weekly_slots": ["sat_am"],
        "starts_on": "2026-01-01",
        "ends_on": "2025-12-01",
        "capacity": "3",
        "difficulty": "2",
        "sessions": "",
    }
    response = client.post(reverse("posts:new"), form)
    assert response.status_code == 200 and "结束日期早于开始日期" in response.content.decode()
    response = client.post(reverse("posts:new"), {**form, "ends_on": "", "difficulty": "7"})
    assert "难度应在 1 到 5 之间" in response.content.decode()
    response = client.post(reverse("posts:new"), {**form, "ends_on": "", "publish": "1"})
    post = Post.objects.get()
    assert response.status_code == 302 and post.status == PostStatus.OPEN and post.venue_id == t.venue_a.pk
    page = client.get(reverse("posts:edit", args=[post.pk])).content.decode()
    assert "爱心益剪" in page


def test_detail_shows_claims_and_candidates_with_reasons(client, personas, kj_member):
    t = personas.tree
    post = make_post(
        personas.secretary_a, t.community_a, preferred_skills=["haircut"], needs_confirmation=True
    )
    from kangle.posts import services

    claim = services.claim_create(actor=personas.member, post=post)
    other = make_member(t.community_a, skills=["haircut"], slots=["sat_am"], name="王五")
    client.force_login(personas.secretary_a)
    page = client.get(reverse("posts:detail", args=[post.pk])).content.decode()
    assert kj_member.name in page and other.name in page and "理发" in page
    client.post(reverse("posts:claim-action", args=[claim.pk, "confirm"]))
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.CONFIRMED
    client.post(reverse("posts:claim-action", args=[claim.pk, "remove"]), {"reason": ""})
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.CONFIRMED  # no reason, nothing changed
    client.post(reverse("posts:invite", args=[post.pk, other.pk]))
    assert post.invitations.filter(member=other).exists()


def test_catalogue_page_edits(client, personas):
    client.force_login(personas.street_admin)
    # Two streets share the catalogue: one street's admin cannot edit it.
    assert client.get(reverse("posts:catalogue")).status_code == 403
    assert (
        client.post(reverse("posts:catalogue"), {"kind": "aspect", "code": "care", "name": "x"}).status_code
        == 403
    )
    assert ServiceAspect.objects.get(code="care").name != "x"
    client.force_login(personas.superuser)
    assert "便民服务" in client.get(reverse("posts:catalogue")).content.decode()
    client.post(
        reverse("posts:catalogue"),
        {"kind": "aspect", "code": "care", "name": "结对关爱帮扶", "sort_order": "4"},
    )
    aspect = ServiceAspect.objects.get(code="care")
    assert aspect.name == "结对关爱帮扶" and aspect.is_active is False  # the box was not ticked: retired


def test_bulk_pages(client, personas):
    t = personas.tree
    a = make_member(t.community_a, skills=["haircut"], slots=["sat_am"], name="甲")
    post = make_post(personas.secretary_a, t.community_a, capacity=1)
    client.force_login(personas.secretary_a)
    response = client.post(reverse("posts:bulk"), {"posts": [str(post.pk)]})
    proposal = BulkProposal.objects.get()
    assert response.status_code == 302
    page = client.get(reverse("posts:bulk-proposal", args=[proposal.pk])).content.decode()
    assert "甲" in page
    client.post(reverse("posts:bulk-proposal", args=[proposal.pk]), {"keep": [f"{post.pk}:{a.pk}"]})
    assert Claim.objects.get().member_id == a.pk
    client.force_login(personas.secretary_b)
    assert client.get(reverse("posts:bulk-proposal", args=[proposal.pk])).status_code == 404


def test_phone_pages(client, personas, kj_member):
    t = personas.tree
    post = make_post(personas.secretary_a, t.community_a, preferred_skills=["haircut"])
    outside = make_post(personas.secretary_b, t.community_b)
    client.force_login(personas.member)
    page = client.get(reverse("posts:for-me")).content.decode()
    assert post.title in page and "理发" in page
    assert client.get(reverse("posts:phone-detail", args=[outside.pk])).status_code == 404
    assert client.post(reverse("posts:phone-claim", args=[outside.pk])).status_code == 404
    response = client.post(reverse("posts:phone-claim", args=[post.pk]))
    assert response.status_code == 302 and Claim.objects.filter(post=post, member=kj_member).exists()
    response = client.post(reverse("posts:phone-claim", args=[post.pk]), follow=True)
    assert "您已认领该岗位" in response.content.decode()
    mine = client.get(reverse("posts:mine")).content.decode()
    assert post.title in mine
    claim = Claim.objects.get()
    client.post(reverse("posts:claim-action", args=[claim.pk, "withdraw"]))
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.WITHDRAWN
    client.force_login(personas.resident)
    assert client.get(reverse("posts:phone-detail", args=[post.pk])).status_code == 404
    assert reverse("members:register") in client.get(reverse("posts:for-me")).content.decode()


def test_public_recruitment_notice_and_qr(client, personas):
    t = personas.tree
    post = make_post(personas.secretary_a, t.community_a, title="爱心益剪")
    street_post = make_post(personas.street_admin, t.street, title="平安巡逻", aspect="safety")
    draft = make_post(personas.secretary_a, t.community_a, title="草稿岗位", publish=False)
    page = client.get(reverse("posts:notice", args=[t.community_a.code])).content.decode()
    assert post.title in page and street_post.title in page and draft.title not in page
    qr = client.get(reverse("posts:notice-qr", args=[t.community_a.code]))
    assert qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    assert client.get(reverse("posts:notice", args=[t.estate_a.code])).status_code == 404
