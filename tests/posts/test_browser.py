"""On a phone, a member sees recommendations with reasons and claims a post; the secretary sees the claim."""

from __future__ import annotations

import pytest

from conftest import browser_login
from kangle.posts.models import Claim
from personas import PASSWORD

from .conftest import make_member, make_post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_member_claims_a_recommended_post_and_the_secretary_sees_it(phone_page, desk_page, personas):
    t = personas.tree
    member = make_member(
        t.community_a,
        user=personas.member,
        microgrid=t.microgrid_a,
        estate=t.estate_a,
        skills=["haircut"],
        slots=["sat_am"],
        aspects=["convenience"],
        name="李党员",
    )
    post = make_post(
        personas.secretary_a,
        t.community_a,
        title="爱心益剪",
        venue=t.venue_a.pk,
        preferred_skills=["haircut"],
        weekly_slots=["sat_am"],
        capacity=2,
    )
    make_post(personas.secretary_b, t.community_b, title="桂林苑巡逻", weekly_slots=["sat_am"])

    browser_login(phone_page, "member", PASSWORD)
    phone_page.goto("/posts/for-me/")
    card = phone_page.locator(f"[data-post='{post.pk}']")
    reasons = card.locator("[data-testid=reasons]").inner_text()
    assert "技能匹配：理发" in reasons and "周六上午" in reasons and "同一居民区" in reasons
    assert "桂林苑巡逻" not in phone_page.content()  # outside the member's reach
    card.locator(f"[data-testid=claim-{post.pk}]").click()
    phone_page.wait_for_url("**/posts/mine/")
    assert "爱心益剪" in phone_page.locator("#my-claims").inner_text()
    assert Claim.objects.filter(post=post, member=member).exists()

    browser_login(desk_page, "secretary_a", PASSWORD)
    desk_page.goto(f"/posts/{post.pk}/")
    assert "李党员" in desk_page.locator("#claim-list").inner_text()
    assert desk_page.locator("#claimed-count").inner_text().startswith("1 / 2")
    desk_page.goto("/posts/")
    assert desk_page.locator(f"[data-post='{post.pk}'] [data-testid=claimed]").inner_text() == "1 / 2"
