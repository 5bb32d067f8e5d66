"""Matching and bulk assignment at city scale: ms per query and the ratio against a per-row Python scorer.

    KANGLE_DATABASE_URL=postgresql://… KANGLE_HOME=<dir> python bench/posts_matching.py [--repeat 20]

Data: the city-scale demo (`kangle demo --scale city`) if the database holds no members, then topped up
by this script with bulk INSERTs (random skills, times, wishes and some existing claims) until 100,000
approved members live in 康健街道's communities and 20,000 open posts are owned by 康健街道, its first
area and 康乐居民区. So a street-wide post has 100,000 members in reach and kj_member (康乐居民区)
reaches all 20,000 posts: the worst case of each direction, with every other city row still in the
tables.

1. members-for-post (top 20) for a street-wide post: ``matching.members_for_post`` (one SQL query) against the
   baseline in the same process: load the candidates in reach with their skills, wishes and loads (prefetched,
   a few queries) and score each row in Python with ``matching.score_pair``.
2. posts-for-member (top 10) for kj_member: ``matching.posts_for_member`` against the same kind of baseline.
3. bulk assignment, 500 area posts × 5,000 candidate members: time to build the score matrix and to solve it
   exactly, total score against greedy (best pair first), and on a sub-problem (40 posts × 300 members) the
   optimum against an independent integer program (scipy.optimize.milp).

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kangle.settings")

MEMBERS_IN_REACH = 100_000
POSTS_IN_REACH = 20_000
BENCH_NAME = "压测党员"
BENCH_TITLE = "压测岗位"


def top_up(rng: random.Random, members_in_reach: int, posts_in_reach: int) -> None:
    from django.db import connection, transaction
    from django.db.models import Count
    from django.utils import timezone

    from kangle.core.crypto import blind_index
    from kangle.members.constants import Aspect, Channel, Status
    from kangle.members.models import Member, MemberWillingness, Skill
    from kangle.orgs.models import OrgKind, OrgUnit
    from kangle.orgs.selectors import subtree_q
    from kangle.posts.models import Claim, ClaimStatus, Post, PostStatus, ServiceAspect
    from kangle.posts.schedule import Schedule

    street = OrgUnit.objects.get(code="XH-KJ")
    communities = list(OrgUnit.objects.filter(subtree_q(street.path), kind=OrgKind.COMMUNITY))
    estates = list(
        OrgUnit.objects.filter(subtree_q(street.path), kind=OrgKind.ESTATE).values_list("path", "pk")
    )
    grids = {}
    for grid in OrgUnit.objects.filter(subtree_q(street.path), kind=OrgKind.MICROGRID):
        community = next(c for c in communities if grid.path.startswith(c.path))
        estate = next((pk for path, pk in estates if grid.path.startswith(path)), None)
        grids.setdefault(community.pk, []).append((grid.pk, estate))
    skills = list(Skill.objects.values_list("pk", flat=True))
    aspect_ids = dict(ServiceAspect.objects.values_list("code", "pk"))
    now = timezone.now()
    have = Member.objects.filter(subtree_q(street.path, "community__path"), status=Status.APPROVED).count()
    missing = members_in_reach - have
    serial = Member.objects.filter(name=BENCH_NAME).count()
    through = Member.skills.through
    while missing > 0:
        batch = min(missing, 5000)
        rows, extras = [], []
        for _ in range(batch):
            serial += 1
            community = rng.choice(communities)
            grid, estate = rng.choice(grids.get(community.pk) or [(None, None)])
            phone = f"199{serial:08d}"
            availability = 0
            for _slot in range(rng.randint(1, 6)):
                availability |= 1 << rng.randrange(21)
            rows.append(
                Member(
                    community=community,
                    microgrid_id=grid,
                    estate_id=estate,
                    org_id=grid or community.pk,
                    name=BENCH_NAME,
                    phone=phone,
                    phone_hash=blind_index(phone),
                    political_status="full",
                    channel=Channel.IMPORT,
                    status=Status.APPROVED,
                    registered_at=now,
                    approved_at=now,
                    availability=availability,
                )
            )
            extras.append(
                (
                    rng.sample(skills, rng.choice([0, 1, 1, 2, 3])),
                    rng.sample(list(Aspect), rng.randint(0, 3)),
                )
            )
        with transaction.atomic():
            created = Member.objects.bulk_create(rows)
            through.objects.bulk_create(
                [
                    through(member_id=m.pk, skill_id=s)
                    for m, (picked, _a) in zip(created, extras, strict=True)
                    for s in picked
                ]
            )
            MemberWillingness.objects.bulk_create(
                [
                    MemberWillingness(member_id=m.pk, aspect_id=aspect_ids[a])
                    for m, (_s, wishes) in zip(created, extras, strict=True)
                    for a in wishes
                ]
            )
        missing -= batch

    community, area = OrgUnit.objects.get(code="KJ-C01"), OrgUnit.objects.get(code="KJ-A1")
    owners = [
        (street, {}),
        (area, {"place_area": area}),
        (community, {"place_community": community, "place_area": area}),
    ]
    reach = Post.objects.filter(org__in=[o for o, _p in owners], status=PostStatus.OPEN).count()
    missing = posts_in_reach - reach
    aspects = list(ServiceAspect.objects.all())
    start = timezone.localdate() - dt.timedelta(days=10)
    required_t, preferred_t = Post.required_skills.through, Post.preferred_skills.through
    while missing > 0:
        batch = min(missing, 5000)
        rows, extras = [], []
        for _ in range(batch):
            owner, place = rng.choice(owners)
            weekly = 0
            for _slot in range(rng.randint(1, 3)):
                weekly |= 1 << rng.randrange(21)
            rows.append(
                Post(
                    org=owner,
                    aspect=rng.choice(aspects),
                    title=BENCH_TITLE,
                    weekly_slots=weekly,
                    starts_on=start,
                    slot_mask=Schedule(weekly).mask,
                    capacity=rng.randint(2, 10),
                    difficulty=rng.randint(1, 5),
                    status=PostStatus.OPEN,
                    created_at=now,
                    updated_at=now,
                    **place,
                )
            )
            extras.append(
                (rng.sample(skills, 1) if rng.random() < 0.2 else [], rng.sample(skills, rng.randint(0, 2)))
            )
        with transaction.atomic():
            created = Post.objects.bulk_create(rows)
            required_t.objects.bulk_create(
                [
                    required_t(post_id=p.pk, skill_id=s)
                    for p, (req, _pref) in zip(created, extras, strict=True)
                    for s in req
                ]
            )
            preferred_t.objects.bulk_create(
                [
                    preferred_t(post_id=p.pk, skill_id=s)
                    for p, (_req, pref) in zip(created, extras, strict=True)
                    for s in pref
                ]
            )
        missing -= batch

    # Existing claims (current load): 20,000 members hold one bench post each, within its capacity.
    if not Claim.objects.filter(post__title=BENCH_TITLE).exists():
        posts = list(
            Post.objects.filter(title=BENCH_TITLE, org=community).values_list("pk", "capacity")[:5000]
        )
        holders = list(
            Member.objects.filter(name=BENCH_NAME, community=community).values_list("pk", flat=True)
        )
        claims, used = [], set()
        for member_id in holders[: len(posts)]:
            post_id, _capacity = posts[len(claims)]
            if (post_id, member_id) not in used:
                used.add((post_id, member_id))
                claims.append(
                    Claim(
                        post_id=post_id,
                        member_id=member_id,
                        status=ClaimStatus.CONFIRMED,
                        claimed_at=now,
                        decided_at=now,
                    )
                )
        with transaction.atomic():
            Claim.objects.bulk_create(claims)
            counts = Claim.objects.filter(post__title=BENCH_TITLE).values("post_id").annotate(n=Count("pk"))
            for row in counts:
                Post.objects.filter(pk=row["post_id"]).update(claimed_count=row["n"])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def naive_members_for_post(post, limit=20):
    """Baseline: every candidate row loaded (prefetched) and scored in Python."""
    from django.db.models import Count

    from kangle.members.constants import Status
    from kangle.members.models import Member
    from kangle.orgs.models import OrgKind, OrgUnit
    from kangle.orgs.selectors import subtree_q
    from kangle.posts import matching
    from kangle.posts.models import ACTIVE_CLAIM_STATUSES, Claim
    from kangle.posts.schedule import Schedule, clash

    p = matching.post_facts(post)
    w = matching.weights()
    communities = dict(
        OrgUnit.objects.filter(subtree_q(post.org.path), kind=OrgKind.COMMUNITY).values_list("pk", "path")
    )
    areas = list(
        OrgUnit.objects.filter(subtree_q(post.org.path), kind=OrgKind.AREA).values_list("path", "pk")
    )
    area_of = {
        pk: next((a for a_path, a in areas if path.startswith(a_path)), None)
        for pk, path in communities.items()
    }
    loads = dict(
        Claim.objects.filter(status__in=ACTIVE_CLAIM_STATUSES)
        .values_list("member_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    holding = {}
    for c in (
        Claim.objects.filter(status__in=ACTIVE_CLAIM_STATUSES)
        .select_related("post")
        .prefetch_related("post__sessions")
    ):
        holding.setdefault(c.member_id, []).append((c.post_id, Schedule.of(c.post)))
    mine = Schedule.of(post)
    scored = []
    rows = (
        Member.objects.filter(subtree_q(post.org.path, "community__path"))
        .prefetch_related("skills", "willingness__aspect")
        .only("pk", "status", "community_id", "estate_id", "microgrid_id", "availability")
    )
    for m in rows:
        facts = matching.MemberFacts(
            id=m.pk,
            status=m.status,
            community_path=communities[m.community_id],
            units={
                "microgrid": m.microgrid_id,
                "estate": m.estate_id,
                "community": m.community_id,
                "area": area_of[m.community_id],
            },
            availability=m.availability,
            skills=frozenset(s.pk for s in m.skills.all()),
            aspects=frozenset(x.aspect.code for x in m.willingness.all()),
            load=loads.get(m.pk, 0),
        )
        if facts.status != Status.APPROVED or not matching.eligible(p, facts):
            continue
        held = holding.get(m.pk, [])
        if any(pid == p.id for pid, _s in held) or any(clash(mine, s) for _pid, s in held):
            continue
        scored.append((m.pk, matching.score_pair(p, facts, w).score))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:limit]


def naive_posts_for_member(member, limit=10):
    from kangle.posts import matching
    from kangle.posts.models import Post, PostStatus
    from kangle.posts.schedule import Schedule, clash

    m = matching.member_facts(member)
    w = matching.weights()
    held = matching._schedules_of(member)
    held_ids = {p.pk for p, _s in held}
    scored = []
    rows = (
        Post.objects.filter(status=PostStatus.OPEN, org_id__in=matching.reachable_owner_ids(member))
        .select_related("org", "aspect")
        .prefetch_related("required_skills", "preferred_skills", "sessions")
    )
    for post in rows:
        p = matching.post_facts(post)
        if not matching.eligible(p, m) or post.pk in held_ids:
            continue
        if any(clash(Schedule.of(post, list(post.sessions.all())), s) for _p, s in held):
            continue
        scored.append((post.pk, matching.score_pair(p, m, w).score))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:limit]


def milp_optimum(score, eligible, capacity) -> int:
    """An independent exact solver: the assignment as an integer program."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    p_idx, m_idx = np.nonzero(eligible & (score > 0))
    n = p_idx.size
    if n == 0:
        return 0
    rows = np.concatenate([p_idx, score.shape[0] + m_idx])
    a = coo_matrix(
        (np.ones(2 * n), (rows, np.concatenate([np.arange(n), np.arange(n)]))),
        shape=(score.shape[0] + score.shape[1], n),
    )
    upper = np.concatenate([capacity, np.ones(score.shape[1])])
    result = milp(
        -score[p_idx, m_idx].astype(float),
        constraints=LinearConstraint(a, -np.inf, upper),
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
    )
    return int(round(-result.fun))


def cpu_calibration_ms() -> float:
    """A fixed pure-Python loop: how busy this machine was during the run (about 150 ms when idle)."""
    start = time.perf_counter()
    sum(range(10_000_000))
    return (time.perf_counter() - start) * 1000


def timed_runs(function, runs: int) -> tuple[float, object]:
    """For the slow baseline: no warm-up run; the median ms of ``runs`` runs and the first run's result."""
    samples, first = [], None
    for i in range(runs):
        start = time.perf_counter()
        result = function()
        samples.append((time.perf_counter() - start) * 1000)
        if i == 0:
            first = result
    return statistics.median(samples), first


def samples_ms(function, repeat: int) -> list[float]:
    """One warm-up call, then ``repeat`` timed calls (ms each)."""
    function()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def median_ms(function, repeat: int) -> float:
    return statistics.median(samples_ms(function, repeat))


def members_for_post_only(street_post, repeat: int, calibration: float) -> dict:
    """``--members-for-post-only``: the SQL ranking alone, median and worst of ``repeat`` calls, no baseline."""
    from django.db import connection

    from kangle.posts import matching

    samples = samples_ms(lambda: matching.members_for_post(street_post, limit=20), repeat)
    return {
        "bench": "posts_matching.members_for_post",
        "database": connection.vendor,
        "cpu_calibration_ms": round(calibration, 1),
        "median_ms": round(statistics.median(samples), 1),
        "worst_ms": round(max(samples), 1),
        "best_ms": round(min(samples), 1),
        "repeat": repeat,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--members", type=int, default=MEMBERS_IN_REACH, help="members in reach (smoke runs: fewer)"
    )
    parser.add_argument(
        "--posts", type=int, default=POSTS_IN_REACH, help="posts in reach (smoke runs: fewer)"
    )
    parser.add_argument(
        "--demo-steps",
        default="",
        help="comma-separated demo steps to build (e.g. orgs,accounts,members: what matching reads); all when empty",
    )
    parser.add_argument(
        "--members-for-post-only",
        action="store_true",
        help="time members-for-post alone (median and worst of --repeat calls), skipping the baselines",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from kangle import demo
    from kangle.accounts.models import User
    from kangle.members.models import Member
    from kangle.members.selectors import own_file
    from kangle.orgs.models import OrgUnit
    from kangle.posts import assignment, matching
    from kangle.posts.models import Post, PostStatus

    call_command("migrate", verbosity=0)
    calibration = cpu_calibration_ms()
    if not Member.objects.exists():
        steps = [f"kangle.demo.{step}.build" for step in args.demo_steps.split(",") if step] or None
        demo.build(scale="city", steps=steps)
    rng = random.Random(args.seed)
    start = time.perf_counter()
    top_up(rng, args.members, args.posts)
    setup_s = time.perf_counter() - start

    street = OrgUnit.objects.get(code="XH-KJ")
    street_post = (
        Post.objects.filter(org=street, status=PostStatus.OPEN, title="压测岗位", required_skills=None)
        .select_related("org", "aspect")
        .order_by("pk")
        .first()
    )
    member = own_file(User.objects.get(username="kj_member"))
    if args.members_for_post_only:
        print(json.dumps(members_for_post_only(street_post, args.repeat, calibration)))
        return

    sql_members = [(m.obj.pk, m.score) for m in matching.members_for_post(street_post, limit=20)]
    members_ms = median_ms(lambda: matching.members_for_post(street_post, limit=20), args.repeat)
    naive_members_ms, naive_members = timed_runs(lambda: naive_members_for_post(street_post), 2)

    sql_posts = [(m.obj.pk, m.score) for m in matching.posts_for_member(member, limit=10)]
    posts_ms = median_ms(lambda: matching.posts_for_member(member, limit=10), args.repeat)
    naive_posts_ms, naive_posts = timed_runs(lambda: naive_posts_for_member(member), 2)

    area = OrgUnit.objects.get(code="KJ-A1")
    bulk_posts = list(
        Post.objects.filter(org=area, status=PostStatus.OPEN, title="压测岗位").order_by("pk")[:500]
    )
    pool = list(
        Member.objects.filter(name="压测党员", community__path__startswith=area.path)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    pool = rng.sample(pool, min(5000, len(pool)))
    start = time.perf_counter()
    problem = assignment.build_problem(bulk_posts, member_ids=pool)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    best = assignment.optimal(problem.score, problem.eligible, problem.capacity)
    solve_s = time.perf_counter() - start
    start = time.perf_counter()
    greedy = assignment.greedy(problem.score, problem.eligible, problem.capacity)
    greedy_s = time.perf_counter() - start
    sub = (slice(0, 40), slice(0, 300))
    sub_score, sub_ok, sub_cap = problem.score[sub], problem.eligible[sub], problem.capacity[:40]
    sub_lsa = assignment.total(sub_score, assignment.optimal(sub_score, sub_ok, sub_cap))
    sub_milp = milp_optimum(sub_score, sub_ok, sub_cap)

    print(
        json.dumps(
            {
                "bench": "posts_matching",
                "database": connection.vendor,
                "setup_s": round(setup_s, 1),
                "cpu_calibration_ms": round(calibration, 1),
                "members_total": Member.objects.count(),
                "posts_total": Post.objects.count(),
                "members_for_post": {
                    "candidates_in_reach": Member.objects.filter(
                        community__path__startswith=street.path
                    ).count(),
                    "ms": round(members_ms, 1),
                    "naive_ms": round(naive_members_ms, 1),
                    "ratio": round(naive_members_ms / members_ms, 1),
                    "same_top20": sql_members == naive_members,
                },
                "posts_for_member": {
                    "posts_in_reach": Post.objects.filter(
                        org_id__in=matching.reachable_owner_ids(member)
                    ).count(),
                    "ms": round(posts_ms, 1),
                    "naive_ms": round(naive_posts_ms, 1),
                    "ratio": round(naive_posts_ms / posts_ms, 1),
                    "same_top10": sql_posts == naive_posts,
                },
                "bulk": {
                    "posts": len(bulk_posts),
                    "candidates": len(pool),
                    "places": int(problem.capacity.sum()),
                    "eligible_pairs": int(problem.eligible.sum()),
                    "build_s": round(build_s, 2),
                    "solve_s": round(solve_s, 2),
                    "greedy_s": round(greedy_s, 2),
                    "assigned": len(best),
                    "total": assignment.total(problem.score, best),
                    "greedy_total": assignment.total(problem.score, greedy),
                    "small_case": {
                        "posts": 40,
                        "members": 300,
                        "lsa": sub_lsa,
                        "milp": sub_milp,
                        "equal": sub_lsa == sub_milp,
                    },
                },
                "repeat": args.repeat,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
