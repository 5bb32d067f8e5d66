"""The demo step: posts across all 9 aspects in 康健街道 at the article's venues, with claims."""

from __future__ import annotations

import pytest

from kangle.demo import build
from kangle.members.constants import Aspect
from kangle.posts.models import ACTIVE_CLAIM_STATUSES, Claim, Post

pytestmark = pytest.mark.django_db


def test_demo_posts_cover_every_aspect_with_claims():
    ctx = build(
        scale="street",
        seed=7,
        steps=[
            "kangle.demo.orgs.build",
            "kangle.demo.accounts.build",
            "kangle.demo.members.build",
            "kangle.demo.posts.build",
        ],
    )
    assert set(Post.objects.values_list("aspect__code", flat=True)) == set(Aspect)
    assert Post.objects.filter(venue__name="康乐会客厅").exists()
    assert Post.objects.filter(venue__kind="leifeng_pavilion").exists()
    assert ctx.summary["claims"] == Claim.objects.filter(status__in=ACTIVE_CLAIM_STATUSES).count() > 50
    assert Claim.objects.filter(member__user=ctx.refs["user:kj_member"]).exists()
    for post in Post.objects.all():
        assert (
            post.claimed_count
            == post.claims.filter(status__in=ACTIVE_CLAIM_STATUSES).count()
            <= post.capacity
        )
