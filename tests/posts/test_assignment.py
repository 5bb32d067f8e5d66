"""Bulk assignment: exact optimum (brute force agrees), never below greedy; proposals edited and confirmed."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from kangle.core.errors import UserError
from kangle.members.constants import Status
from kangle.posts import assignment, matching, services
from kangle.posts.models import BulkProposal, Claim, ClaimSource, ProposalStatus

from .conftest import make_member, make_post


def brute_force(score, eligible, capacity) -> int:
    """Try every way of giving each member one post or none."""
    n_posts, n_members = score.shape
    best = 0
    for choice in itertools.product(range(-1, n_posts), repeat=n_members):
        used = np.zeros(n_posts, dtype=int)
        value, ok = 0, True
        for m, p in enumerate(choice):
            if p < 0:
                continue
            if not eligible[p, m]:
                ok = False
                break
            used[p] += 1
            value += score[p, m]
        if ok and (used <= capacity).all():
            best = max(best, value)
    return best


@pytest.mark.parametrize("seed", range(25))
def test_optimal_equals_brute_force_and_beats_greedy(seed):
    rng = np.random.default_rng(seed)
    n_posts, n_members = rng.integers(1, 4), rng.integers(1, 7)
    score = rng.integers(-3, 15, size=(n_posts, n_members))
    eligible = rng.random((n_posts, n_members)) < 0.7
    capacity = rng.integers(0, 3, size=n_posts)
    pairs = assignment.optimal(score, eligible, capacity)
    assert len({m for _p, m in pairs}) == len(pairs)  # one post per member
    assert all(eligible[p, m] for p, m in pairs)
    assert all(sum(1 for q, _m in pairs if q == p) <= capacity[p] for p in range(n_posts))
    best = assignment.total(score, pairs)
    assert best == brute_force(score, eligible, capacity)
    assert best >= assignment.total(score, assignment.greedy(score, eligible, capacity))


def test_a_case_where_greedy_is_worse():
    score = np.array([[10, 9], [9, 0]])
    eligible = np.array([[True, True], [True, False]])
    capacity = np.array([1, 1])
    assert assignment.total(score, assignment.greedy(score, eligible, capacity)) == 10
    assert assignment.total(score, assignment.optimal(score, eligible, capacity)) == 18


@pytest.mark.django_db
def test_problem_scores_match_the_per_row_definition(personas):
    t = personas.tree
    rng = random.Random(3)
    members = [
        make_member(
            t.community_a,
            microgrid=rng.choice([t.microgrid_a, None]),
            estate=t.estate_a,
            skills=rng.sample(["haircut", "repair", "medical"], rng.randint(0, 2)),
            slots=rng.sample(["sat_am", "sun_pm", "mon_am", "tue_eve"], rng.randint(0, 3)),
            aspects=rng.sample(["convenience", "safety", "elderly"], rng.randint(0, 2)),
        )
        for _ in range(15)
    ]
    posts = [
        make_post(
            personas.secretary_a,
            t.community_a,
            title=f"P{i}",
            weekly_slots=[slot],
            aspect=aspect,
            preferred_skills=pref,
            required_skills=req,
            capacity=2,
        )
        for i, (slot, aspect, pref, req) in enumerate(
            [
                ("sat_am", "convenience", ["haircut"], []),
                ("sun_pm", "safety", [], ["repair"]),
                ("mon_am", "elderly", ["medical"], []),
            ]
        )
    ]
    for member in members[:4]:  # some load, and holders of P0 drop out of it
        if member.pk in {m.obj.pk for m in matching.members_for_post(posts[0], limit=50)}:
            services.claim_create(actor=personas.secretary_a, post=posts[0], member=member)
    problem = assignment.build_problem(posts)
    for i, post in enumerate(posts):
        post.refresh_from_db()
        expected = dict(matching.rank_naive(post, members, limit=100))
        got = {
            int(problem.member_ids[j]): int(problem.score[i, j]) for j in np.flatnonzero(problem.eligible[i])
        }
        assert got == expected


@pytest.mark.django_db
def test_proposal_edit_and_confirm(personas, django_capture_on_commit_callbacks):
    t = personas.tree
    a = make_member(t.community_a, skills=["haircut"], slots=["sat_am"], name="甲")
    b = make_member(t.community_a, skills=["haircut"], slots=["sat_am"], name="乙")
    c = make_member(t.community_a, slots=["sun_pm"], name="丙")
    cut = make_post(
        personas.secretary_a, t.community_a, title="理发", preferred_skills=["haircut"], capacity=1
    )
    patrol = make_post(personas.secretary_a, t.community_a, title="巡逻", weekly_slots=["sun_pm"], capacity=2)
    with pytest.raises(UserError):
        services.proposal_create(actor=personas.secretary_a, org=t.community_a, posts=[])
    proposal = services.proposal_create(actor=personas.secretary_a, org=t.community_a, posts=[cut, patrol])
    items = {(i.post_id, i.member_id) for i in proposal.items.all()}
    assert items == {(cut.pk, a.pk), (patrol.pk, c.pk)} and proposal.total_score >= proposal.greedy_score
    assert all(i.reasons for i in proposal.items.all())
    # The secretary swaps 甲 for 乙 on the haircut post and confirms.
    with django_capture_on_commit_callbacks(execute=True):
        claims = services.proposal_confirm(
            actor=personas.secretary_a, proposal=proposal, pairs=[(cut.pk, b.pk), (patrol.pk, c.pk)]
        )
    assert {(x.post_id, x.member_id) for x in claims} == {(cut.pk, b.pk), (patrol.pk, c.pk)}
    assert all(x.source == ClaimSource.BULK for x in claims)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.CONFIRMED
    with pytest.raises(UserError):
        services.proposal_confirm(actor=personas.secretary_a, proposal=proposal, pairs=[])


@pytest.mark.django_db
def test_proposal_confirm_is_all_or_nothing_and_names_the_row(personas):
    t = personas.tree
    a = make_member(t.community_a, slots=["sat_am"], name="甲")
    b = make_member(t.community_a, slots=["sat_am"], name="乙")
    post = make_post(personas.secretary_a, t.community_a, title="理发", capacity=1)
    proposal = services.proposal_create(actor=personas.secretary_a, org=t.community_a, posts=[post])
    with pytest.raises(UserError) as err:
        services.proposal_confirm(
            actor=personas.secretary_a, proposal=proposal, pairs=[(post.pk, a.pk), (post.pk, b.pk)]
        )
    assert "第 2 行" in err.value.zh and err.value.code == "post_full"
    assert Claim.objects.count() == 0
    assert BulkProposal.objects.get().status == ProposalStatus.DRAFT
    outsider = make_member(t.community_b, slots=["sat_am"])
    with pytest.raises(UserError) as err:
        services.proposal_confirm(
            actor=personas.secretary_a, proposal=proposal, pairs=[(post.pk, outsider.pk)]
        )
    assert "第 1 行" in err.value.zh
    assert a.status == Status.APPROVED
