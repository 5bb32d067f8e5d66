"""Two-way matching: SQL ranking equals the per-row definition; ineligible people filtered out; reasons."""

from __future__ import annotations

import contextlib
import random

import pytest
from django.http import Http404
from django.utils import translation

from kangle.core.errors import UserError
from kangle.members.constants import SLOT_CODES, Aspect, Status
from kangle.members.models import Member, Skill
from kangle.orgs.models import OrgKind
from kangle.posts import matching, services
from kangle.posts.models import Post

from .conftest import make_member, make_post

pytestmark = pytest.mark.django_db
SLOTS = list(SLOT_CODES)


def _random_world(personas, rng, members=60, posts=12):
    t = personas.tree
    from tests.personas import make_unit

    estate_2 = make_unit(t.community_a, OrgKind.ESTATE, "KJ-C01-E2", "康乐2小区")
    places = [
        (t.community_a, t.microgrid_a, t.estate_a),
        (t.community_a, None, t.estate_a),
        (t.community_a, None, estate_2),
        (t.community_b, None, t.estate_b),
        (t.community_a, None, None),
    ]
    skills = list(Skill.objects.values_list("code", flat=True))
    people = []
    for i in range(members):
        community, microgrid, estate = rng.choice(places)
        people.append(
            make_member(
                community,
                microgrid=microgrid,
                estate=estate,
                skills=rng.sample(skills, rng.choice([0, 1, 2, 3])),
                slots=rng.sample(SLOTS, rng.choice([0, 1, 3, 6])),
                aspects=rng.sample(list(Aspect), rng.randint(0, 3)),
                status=Status.APPROVED if rng.random() < 0.85 else Status.PENDING,
                name=f"成员{i}",
            )
        )
    owners = [
        (personas.secretary_a, t.community_a),
        (personas.area_admin, t.area_1),
        (personas.street_admin, t.street),
        (personas.secretary_b, t.community_b),
    ]
    created = []
    for i in range(posts):
        actor, org = rng.choice(owners)
        venue = t.venue_a.pk if org != t.community_b and rng.random() < 0.5 else ""
        created.append(
            make_post(
                actor,
                org,
                title=f"岗位{i}",
                aspect=rng.choice(list(Aspect)),
                venue=venue,
                weekly_slots=rng.sample(SLOTS, rng.randint(1, 4)),
                required_skills=rng.sample(skills, rng.choice([0, 0, 1])),
                preferred_skills=rng.sample(skills, rng.choice([0, 1, 2])),
                capacity=5,
            )
        )
    return people, created


def test_members_for_post_sql_equals_per_row_definition(personas):
    rng = random.Random(7)
    people, posts = _random_world(personas, rng)
    # Some existing claims, so load and clashes play a part.
    for member in rng.sample([p for p in people if p.status == Status.APPROVED], 10):
        post = rng.choice(posts)
        with contextlib.suppress(UserError, Http404):  # an ineligible random pair is simply skipped
            services.claim_create(actor=personas.superuser, post=post, member=member)
    for post in Post.objects.all():
        post.refresh_from_db()
        sql = [(m.obj.pk, m.score) for m in matching.members_for_post(post, limit=100)]
        naive = matching.rank_naive(post, list(Member.objects.select_related("community")), limit=100)
        assert sql == naive, post.title


def test_posts_for_member_sql_equals_per_row_definition(personas):
    rng = random.Random(11)
    people, posts = _random_world(personas, rng, members=25, posts=30)
    for member in people:
        got = [(m.obj.pk, m.score) for m in matching.posts_for_member(member, limit=50)]
        expected = []
        for post in Post.objects.all():
            ranked = dict(matching.rank_naive(post, [member], limit=1))
            if member.pk in ranked:
                expected.append((post.pk, ranked[member.pk]))
        expected.sort(key=lambda item: (-item[1], item[0]))
        assert got == expected[:50], member.name


def test_ineligible_members_are_filtered_out_not_ranked_low(personas, kj_member):
    t = personas.tree
    post = make_post(
        personas.secretary_a, t.community_a, weekly_slots=["sat_am"], required_skills=["haircut"]
    )
    fits = make_member(t.community_a, skills=["haircut"], slots=["sat_am"], name="合适")
    make_member(t.community_a, skills=["haircut"], slots=["sat_am"], status=Status.PENDING, name="未审核")
    make_member(t.community_a, skills=["haircut"], slots=["mon_am"], name="时间不合")
    make_member(t.community_a, skills=["repair"], slots=["sat_am"], name="无技能")
    make_member(t.community_b, skills=["haircut"], slots=["sat_am"], name="外社区")
    names = [m.obj.name for m in matching.members_for_post(post)]
    assert sorted(names) == sorted(["合适", kj_member.name])
    services.claim_create(actor=personas.member, post=post)
    busy = make_post(personas.secretary_a, t.community_a, weekly_slots=["sat_am"], title="另一个")
    services.claim_create(actor=personas.secretary_a, post=busy, member=fits)
    assert [m.obj.name for m in matching.members_for_post(post)] == []  # one holds it, the other clashes


def test_full_or_closed_post_has_no_candidates(personas, kj_member):
    post = make_post(personas.secretary_a, personas.tree.community_a, capacity=1)
    assert matching.members_for_post(post)
    services.claim_create(actor=personas.member, post=post)
    post.refresh_from_db()
    assert matching.members_for_post(post) == []
    other = make_post(personas.secretary_a, personas.tree.community_a, weekly_slots=["sun_pm"])
    services.post_set_status(actor=personas.secretary_a, post=other, action="close")
    other.refresh_from_db()
    assert matching.members_for_post(other) == []
    assert all(m.obj.pk not in (post.pk, other.pk) for m in matching.posts_for_member(kj_member))


def test_proximity_ranks_microgrid_over_estate_over_community_over_area(personas):
    t = personas.tree
    from tests.personas import make_unit

    venue_org = t.microgrid_a
    from kangle.orgs.models import Venue

    venue = Venue.objects.create(org=venue_org, kind="leifeng_pavilion", name="雷锋亭", address="康健路口")
    post = make_post(personas.area_admin, t.area_1, venue=venue.pk, weekly_slots=["sat_am"])
    community_c = make_unit(t.area_1, OrgKind.COMMUNITY, "KJ-C02", "第二居民区")
    same_grid = make_member(
        t.community_a, microgrid=t.microgrid_a, estate=t.estate_a, slots=["sat_am"], name="微网格"
    )
    same_estate = make_member(t.community_a, estate=t.estate_a, slots=["sat_am"], name="小区")
    same_community = make_member(t.community_a, slots=["sat_am"], name="居民区")
    same_area = make_member(community_c, slots=["sat_am"], name="片区")
    ranked = [m.obj.pk for m in matching.members_for_post(post)]
    assert ranked == [same_grid.pk, same_estate.pk, same_community.pk, same_area.pk]
    with translation.override("zh-hans"):
        top = matching.members_for_post(post)[0]
    assert "微网格" in top.reasons or "micro-grid" in top.reasons


def test_recommendations_with_readable_reasons(personas, kj_member):
    t = personas.tree
    make_post(
        personas.secretary_a,
        t.community_a,
        venue=t.venue_a.pk,
        title="爱心益剪",
        preferred_skills=["haircut"],
        weekly_slots=["sat_am"],
        aspect="convenience",
    )
    make_post(personas.secretary_a, t.community_a, title="楼道巡查", aspect="safety", weekly_slots=["sun_pm"])
    recs = matching.posts_for_member(kj_member)
    assert [r.obj.title for r in recs] == ["爱心益剪", "楼道巡查"]
    with translation.override("en"):
        text = matching.posts_for_member(kj_member)[0].reasons
    assert "Skills: 理发" in text and "Time: Sat morning" in text and "Same community" in text
    assert "Wants to serve: 便民服务" in text


def test_member_without_skills_or_times_still_gets_sensible_recommendations(personas):
    t = personas.tree
    member = make_member(t.community_a, user=personas.member, skills=[], slots=[], aspects=[])
    open_to_all = make_post(personas.secretary_a, t.community_a, title="文明宣传", aspect="civic")
    make_post(
        personas.secretary_a,
        t.community_a,
        title="义诊",
        required_skills=["medical"],
        weekly_slots=["mon_am"],
    )
    recs = matching.posts_for_member(member)
    assert [r.obj.pk for r in recs] == [
        open_to_all.pk
    ]  # the skill-restricted post is filtered, not empty by accident
    with translation.override("en"):
        assert "Time not stated yet" in matching.posts_for_member(member)[0].reasons
    timed = make_member(t.community_b, skills=["medical"], slots=["mon_am"])
    assert matching.posts_for_member(timed) == []  # nothing within reach: empty for a reason


def test_not_approved_member_gets_no_recommendations(personas):
    member = make_member(personas.tree.community_a, status=Status.PENDING, slots=["sat_am"])
    make_post(personas.secretary_a, personas.tree.community_a)
    assert matching.posts_for_member(member) == []


def test_weights_come_from_settings(personas, settings):
    t = personas.tree
    post = make_post(
        personas.secretary_a, t.community_a, preferred_skills=["haircut"], weekly_slots=["sat_am"]
    )
    near = make_member(t.community_a, microgrid=t.microgrid_a, slots=["sat_am"], name="近")
    skilled = make_member(t.community_a, skills=["haircut"], slots=["sat_am"], name="技能")
    post.refresh_from_db()
    settings.KANGLE_MATCH_WEIGHTS = {"skill_preferred": 1, "community": 10}
    first = matching.members_for_post(post)
    settings.KANGLE_MATCH_WEIGHTS = {"skill_preferred": 20}
    second = matching.members_for_post(post)
    assert {m.obj.pk for m in first} == {near.pk, skilled.pk} and second[0].obj.pk == skilled.pk
