"""Bulk assignment: members to several posts at once, maximising the total match score exactly.

The score matrix (posts × candidate members) is built vectorised with numpy from a few queries, with the
same definition as ``matching.score_pair``. Each post is expanded into one row per free place; one zero-cost
"leave empty" column per row makes every instance feasible, ineligible pairs are forbidden, and
``scipy.optimize.linear_sum_assignment`` then finds the optimum: the largest total score with at most one
post per member in a batch (spreading the work) and no post over its free places. A place stays empty rather
than take a pair whose score is negative. ``greedy`` (best pair first) is the baseline the benchmark compares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from kangle.members.constants import Status
from kangle.members.models import Member, MemberWillingness, Skill
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.selectors import paths_q
from kangle.posts.matching import PROXIMITY, Components, reasons, skill_names, weights
from kangle.posts.models import ACTIVE_CLAIM_STATUSES, Claim, Post, ServiceAspect
from kangle.posts.schedule import Schedule, clash

FORBIDDEN = 1e12


@dataclass
class Pair:
    post_id: int
    member_id: int
    score: int
    reasons: str


@dataclass
class Result:
    pairs: list[Pair]
    total: int
    greedy_total: int


@dataclass
class Problem:
    post_ids: np.ndarray
    member_ids: np.ndarray
    capacity: np.ndarray  # free places per post
    score: np.ndarray  # posts × members, int
    eligible: np.ndarray  # posts × members, bool
    parts: dict  # component matrices for reasons (posts × members)


# --- The solvers (pure numpy / scipy) ---------------------------------------------------------------------
def optimal(score: np.ndarray, eligible: np.ndarray, capacity: np.ndarray) -> list[tuple[int, int]]:
    """Exact maximum-total-score assignment: (post index, member index) pairs."""
    n_posts, n_members = score.shape
    rows = np.repeat(np.arange(n_posts), np.asarray(capacity, dtype=int))
    if rows.size == 0 or n_members == 0:
        return []
    # Only members eligible somewhere take part (fewer columns, same optimum).
    useful = np.flatnonzero(eligible.any(axis=0))
    if useful.size == 0:
        return []
    sub_score, sub_ok = score[:, useful][rows], eligible[:, useful][rows]
    cost = np.zeros((rows.size, useful.size + rows.size))
    cost[:, : useful.size] = np.where(sub_ok, -sub_score.astype(float), FORBIDDEN)
    r, c = linear_sum_assignment(cost)
    picked = c < useful.size
    r, c = r[picked], c[picked]
    keep = sub_ok[r, c] & (sub_score[r, c] > 0)
    return [(int(rows[i]), int(useful[j])) for i, j in zip(r[keep], c[keep], strict=True)]


def greedy(score: np.ndarray, eligible: np.ndarray, capacity: np.ndarray) -> list[tuple[int, int]]:
    """Best pair first: the baseline."""
    p_idx, m_idx = np.nonzero(eligible & (score > 0))
    order = np.lexsort((m_idx, p_idx, -score[p_idx, m_idx]))
    left = np.asarray(capacity, dtype=int).copy()
    used = np.zeros(score.shape[1], dtype=bool)
    pairs = []
    for k in order:
        p, m = p_idx[k], m_idx[k]
        if left[p] > 0 and not used[m]:
            left[p] -= 1
            used[m] = True
            pairs.append((int(p), int(m)))
    return pairs


def total(score: np.ndarray, pairs) -> int:
    return int(sum(score[p, m] for p, m in pairs))


# --- Building the problem from the database ---------------------------------------------------------------
@dataclass
class _Places:
    """The communities the posts reach: their ids in matrix order, each one's area, and posts × communities."""

    index: dict[int, int]
    area: np.ndarray
    reach: np.ndarray


@dataclass
class _Members:
    """The candidate members as matrix columns."""

    pool: object  # the member queryset (reused as a subquery)
    ids: np.ndarray
    position: dict[int, int]
    community: np.ndarray  # index into _Places
    units: dict[str, np.ndarray]
    availability: np.ndarray
    skills: np.ndarray  # members × skills
    willing: np.ndarray  # members × (aspects + 1)
    load: np.ndarray
    claims: list[tuple[int, int]]  # (member id, post id) of their active claims


def build_problem(posts: list[Post], *, member_ids: list[int] | None = None) -> Problem:
    """The score matrix for ``posts`` over the approved members in their reach (or only ``member_ids``:
    a pool the secretary chose, e.g. volunteers)."""
    w = weights()
    posts = _claimable(posts)
    places = _places(posts)
    members, skills, aspects = _members(places, member_ids)
    p_req, p_pref, p_mask = _post_skills_and_slots(posts, skills)
    overlap = ((p_mask[:, None] >> np.arange(21)) & 1).astype(np.int32) @ (
        (members.availability[:, None] >> np.arange(21)) & 1
    ).astype(np.int32).T
    willing = members.willing[:, [aspects.get(p.aspect_id, len(aspects)) for p in posts]].T
    prox, level = _proximity(posts, members, w)
    req_have = p_req @ members.skills.T
    score = (
        w["skill_required"] * req_have
        + w["skill_preferred"] * (p_pref @ members.skills.T)
        + w["slot"] * np.minimum(overlap, w["slot_cap"])
        + w["willing"] * willing
        + prox
        - w["load"] * members.load[None, :]
    ).astype(np.int64)
    ok = _eligible(posts, places, members, overlap, req_have == p_req.sum(axis=1)[:, None])
    parts = {
        "req": (p_req, members.skills),
        "pref": (p_pref, members.skills),
        "overlap": overlap,
        "willing": willing,
        "level": level,
        "load": members.load,
        "availability": members.availability,
        "p_mask": p_mask,
        "aspect_names": [p.aspect.name for p in posts],
    }
    return Problem(
        np.array([p.pk for p in posts], dtype=np.int64),
        members.ids,
        np.array([p.places_left for p in posts], dtype=np.int64),
        score,
        ok,
        parts,
    )


def _claimable(posts: list[Post]) -> list[Post]:
    return [
        p
        for p in Post.objects.filter(pk__in=[p.pk for p in posts])
        .select_related("org", "aspect")
        .prefetch_related("required_skills", "preferred_skills", "sessions")
        .order_by("pk")
        if p.is_claimable
    ]


def _places(posts: list[Post]) -> _Places:
    communities = (
        list(
            OrgUnit.objects.filter(paths_q([p.org.path for p in posts]), kind=OrgKind.COMMUNITY).values_list(
                "pk", "path"
            )
        )
        if posts
        else []
    )
    areas = dict(OrgUnit.objects.filter(kind=OrgKind.AREA).values_list("code", "pk"))
    area = np.array(
        [next((areas[c] for c in path.split("/") if c in areas), -3) for _pk, path in communities] or [0],
        dtype=np.int64,
    )
    reach = np.array(
        [[path.startswith(p.org.path) for _pk, path in communities] for p in posts], dtype=bool
    ).reshape(len(posts), len(communities))
    return _Places({pk: i for i, (pk, _path) in enumerate(communities)}, area, reach)


def _members(places: _Places, member_ids: list[int] | None) -> tuple[_Members, dict, dict]:
    """The member columns, and the skill and aspect indexes (pk → column) their matrices use."""
    pool = Member.objects.filter(status=Status.APPROVED, community_id__in=list(places.index))
    if member_ids is not None:
        pool = pool.filter(pk__in=member_ids)
    rows = list(
        pool.order_by("pk").values_list("pk", "community_id", "estate_id", "microgrid_id", "availability")
    )
    n_members = len(rows)
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    position = {pk: i for i, pk in enumerate(ids.tolist())}
    community = np.array([places.index[r[1]] for r in rows], dtype=np.int64)
    units = {
        "microgrid": np.array([r[3] if r[3] is not None else -1 for r in rows], dtype=np.int64),
        "estate": np.array([r[2] if r[2] is not None else -1 for r in rows], dtype=np.int64),
        "community": np.array([r[1] for r in rows], dtype=np.int64),
        "area": places.area[community] if n_members else np.zeros(0, dtype=np.int64),
    }
    availability = np.array([r[4] for r in rows], dtype=np.int64)

    skills = {pk: i for i, pk in enumerate(Skill.objects.order_by("pk").values_list("pk", flat=True))}
    m_skills = np.zeros((n_members, len(skills)), dtype=np.int32)
    for member_id, skill_id in Member.skills.through.objects.filter(member__in=pool).values_list(
        "member_id", "skill_id"
    ):
        m_skills[position[member_id], skills[skill_id]] = 1
    aspects = {
        pk: i for i, pk in enumerate(ServiceAspect.objects.order_by("pk").values_list("pk", flat=True))
    }
    m_will = np.zeros((n_members, len(aspects) + 1), dtype=bool)
    for member_id, aspect_id in MemberWillingness.objects.filter(member__in=pool).values_list(
        "member_id", "aspect_id"
    ):
        m_will[position[member_id], aspects.get(aspect_id, len(aspects))] = True
    load = np.zeros(n_members, dtype=np.int64)
    claims = list(
        Claim.objects.filter(member__in=pool, status__in=ACTIVE_CLAIM_STATUSES).values_list(
            "member_id", "post_id"
        )
    )
    for member_id, _post_id in claims:
        load[position[member_id]] += 1
    members = _Members(pool, ids, position, community, units, availability, m_skills, m_will, load, claims)
    return members, skills, aspects


def _post_skills_and_slots(posts: list[Post], skills: dict[int, int]):
    """Posts × skills (required, preferred) and each post's weekly slot mask."""
    p_req = np.zeros((len(posts), len(skills)), dtype=np.int32)
    p_pref = np.zeros((len(posts), len(skills)), dtype=np.int32)
    for i, post in enumerate(posts):
        for s in post.required_skills.all():
            p_req[i, skills[s.pk]] = 1
        for s in post.preferred_skills.all():
            p_pref[i, skills[s.pk]] = 1
    return p_req, p_pref, np.array([p.slot_mask for p in posts], dtype=np.int64)


def _proximity(posts: list[Post], members: _Members, w: dict) -> tuple[np.ndarray, np.ndarray]:
    """Posts × members: the proximity points and the closest shared level (an index into PROXIMITY, -1)."""
    shape = (len(posts), len(members.ids))
    level = np.full(shape, -1, dtype=np.int64)
    prox = np.zeros(shape, dtype=np.int64)
    for rank, name in reversed(list(enumerate(PROXIMITY))):
        place = np.array([getattr(p, f"place_{name}_id") or -2 for p in posts], dtype=np.int64)
        same = place[:, None] == members.units[name][None, :]
        prox = np.where(same, w[name], prox)
        level = np.where(same, rank, level)
    return prox, level


def _eligible(posts, places: _Places, members: _Members, overlap, req_ok) -> np.ndarray:
    """In reach, every required skill, a shared slot (or no stated times); not already holding the post and
    no clash with another claim the member holds."""
    n_posts, n_members = len(posts), len(members.ids)
    if not n_members:
        return np.zeros((n_posts, 0), dtype=bool)
    time_ok = (overlap > 0) | (members.availability == 0)[None, :]
    ok = places.reach[:, members.community] & req_ok & time_ok
    post_index = {p.pk: i for i, p in enumerate(posts)}
    other_ids = sorted({post_id for _m, post_id in members.claims})
    if other_ids:
        others = {
            p.pk: Schedule.of(p) for p in Post.objects.filter(pk__in=other_ids).prefetch_related("sessions")
        }
        mine = [Schedule.of(p) for p in posts]
        clash_rows = {q: np.array([clash(s, others[q]) for s in mine], dtype=bool) for q in other_ids}
        for member_id, post_id in members.claims:
            j = members.position[member_id]
            ok[:, j] &= ~clash_rows[post_id]
            if post_id in post_index:
                ok[post_index[post_id], j] = False
    return ok


def _pair_reasons(problem: Problem, p: int, m: int, names: dict[int, str], skill_pks: list[int]) -> str:
    parts = problem.parts
    p_req, m_skills = parts["req"]
    p_pref, _ = parts["pref"]
    c = Components(
        required=[skill_pks[k] for k in np.flatnonzero(p_req[p] & m_skills[m])],
        preferred=[skill_pks[k] for k in np.flatnonzero(p_pref[p] & m_skills[m])],
        overlap=int(parts["overlap"][p, m]),
        willing=bool(parts["willing"][p, m]),
        proximity=PROXIMITY[parts["level"][p, m]] if parts["level"][p, m] >= 0 else None,
        load=int(parts["load"][m]),
        availability_stated=bool(parts["availability"][m]),
        score=int(problem.score[p, m]),
    )
    return reasons(
        c,
        shared_mask=int(parts["availability"][m] & parts["p_mask"][p]),
        aspect_name=parts["aspect_names"][p],
        skill_names=names,
        show_load=True,
    )


def solve_for_posts(posts: list[Post]) -> Result:
    problem = build_problem(posts)
    chosen = optimal(problem.score, problem.eligible, problem.capacity)
    baseline = greedy(problem.score, problem.eligible, problem.capacity)
    names = skill_names()
    skill_pks = list(Skill.objects.order_by("pk").values_list("pk", flat=True))
    pairs = [
        Pair(
            int(problem.post_ids[p]),
            int(problem.member_ids[m]),
            int(problem.score[p, m]),
            _pair_reasons(problem, p, m, names, skill_pks),
        )
        for p, m in sorted(chosen)
    ]
    return Result(pairs, total(problem.score, chosen), total(problem.score, baseline))
