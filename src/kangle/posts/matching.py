"""Two-way matching (精准匹配): posts for a member and members for a post, with reasons a person can read.

score = skill_required × required skills held + skill_preferred × preferred skills held
      + slot × shared slots (capped at ``slot_cap``) + willing × (the member wants this aspect)
      + proximity (same micro-grid > estate > community > area) − load × the member's current claims.
Weights come from ``settings.KANGLE_MATCH_WEIGHTS``. People and posts that are not eligible — member not
approved, outside reach, a required skill missing, no shared time slot, post full or closed, already claimed,
a clash with another claim — are filtered out, never ranked low. A member who has not stated any time yet is
matched on the rest (and told to add times), so a sparse file still gets sensible recommendations.

The ranking runs as one SQL query (portable between SQLite and PostgreSQL: integer arithmetic, CASE and
IN lists only); the exact clash check then runs in Python on the few rows at the top. ``score_pair`` is the
plain per-row definition of the same score: reasons are written from it, and tests compare the SQL with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from kangle.core.timeutil import today
from kangle.members.constants import Status
from kangle.members.models import Member, MemberWillingness, Skill
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.selectors import subtree_q
from kangle.posts.models import ACTIVE_CLAIM_STATUSES, Claim, Post, PostStatus, ServiceAspect
from kangle.posts.schedule import Schedule, bits, clash, slot_labels

DEFAULT_WEIGHTS = {
    "skill_required": 4,
    "skill_preferred": 3,
    "slot": 2,
    "slot_cap": 3,
    "willing": 3,
    "microgrid": 5,
    "estate": 4,
    "community": 3,
    "area": 1,
    "load": 1,
}
PROXIMITY = ("microgrid", "estate", "community", "area")


def weights() -> dict[str, int]:
    return {**DEFAULT_WEIGHTS, **settings.KANGLE_MATCH_WEIGHTS}


# --- Facts and the per-row definition ---------------------------------------------------------------------
@dataclass
class PostFacts:
    id: int
    org_path: str
    aspect_id: int
    aspect_code: str
    aspect_name: str
    required: frozenset[int]
    preferred: frozenset[int]
    slot_mask: int
    place: dict[str, int | None]  # kind → unit id, for microgrid / estate / community / area
    claimable: bool = True


@dataclass
class MemberFacts:
    id: int
    status: str
    community_path: str
    units: dict[str, int | None]  # microgrid / estate / community / area → unit id
    availability: int
    skills: frozenset[int]
    aspects: frozenset[str]
    load: int


@dataclass
class Components:
    required: list[int]
    preferred: list[int]
    overlap: int
    willing: bool
    proximity: str | None
    load: int
    availability_stated: bool
    score: int = 0


def post_facts(post: Post) -> PostFacts:
    return PostFacts(
        id=post.pk,
        org_path=post.org.path,
        aspect_id=post.aspect_id,
        aspect_code=post.aspect.code,
        aspect_name=post.aspect.name,
        required=frozenset(s.pk for s in post.required_skills.all()),
        preferred=frozenset(s.pk for s in post.preferred_skills.all()),
        slot_mask=post.slot_mask,
        place={
            "microgrid": post.place_microgrid_id,
            "estate": post.place_estate_id,
            "community": post.place_community_id,
            "area": post.place_area_id,
        },
        claimable=post.is_claimable,
    )


def area_of(community: OrgUnit) -> OrgUnit | None:
    return OrgUnit.objects.filter(code__in=community.ancestor_codes(), kind=OrgKind.AREA).first()


def member_facts(member: Member) -> MemberFacts:
    area = area_of(member.community)
    return MemberFacts(
        id=member.pk,
        status=member.status,
        community_path=member.community.path,
        units={
            "microgrid": member.microgrid_id,
            "estate": member.estate_id,
            "community": member.community_id,
            "area": area.pk if area else None,
        },
        availability=member.availability,
        skills=frozenset(member.skills.values_list("pk", flat=True)),
        aspects=frozenset(member.willingness.values_list("aspect__code", flat=True)),
        load=Claim.objects.filter(member=member, status__in=ACTIVE_CLAIM_STATUSES).count(),
    )


def eligible(p: PostFacts, m: MemberFacts) -> bool:
    """Everything but the claim-specific checks (already claimed, clash), which need the claims themselves."""
    return (
        p.claimable
        and m.status == Status.APPROVED
        and m.community_path.startswith(p.org_path)
        and p.required <= m.skills
        and (m.availability == 0 or bool(m.availability & p.slot_mask))
    )


def score_pair(p: PostFacts, m: MemberFacts, w: dict[str, int] | None = None) -> Components:
    w = w or weights()
    overlap = bin(m.availability & p.slot_mask).count("1")
    proximity = next(
        (level for level in PROXIMITY if p.place[level] is not None and p.place[level] == m.units[level]),
        None,
    )
    c = Components(
        required=sorted(p.required & m.skills),
        preferred=sorted(p.preferred & m.skills),
        overlap=overlap,
        willing=p.aspect_code in m.aspects,
        proximity=proximity,
        load=m.load,
        availability_stated=m.availability != 0,
    )
    c.score = (
        w["skill_required"] * len(c.required)
        + w["skill_preferred"] * len(c.preferred)
        + w["slot"] * min(overlap, w["slot_cap"])
        + w["willing"] * int(c.willing)
        + (w[proximity] if proximity else 0)
        - w["load"] * c.load
    )
    return c


# --- Reasons ----------------------------------------------------------------------------------------------
PROXIMITY_TEXT = {
    "microgrid": lambda: _("Same micro-grid"),
    "estate": lambda: _("Same estate"),
    "community": lambda: _("Same community"),
    "area": lambda: _("Same area"),
}


def reasons(
    c: Components, *, shared_mask: int, aspect_name: str, skill_names: dict[int, str], show_load: bool
) -> str:
    parts = []
    held = c.required + c.preferred
    if held:
        parts.append(_("Skills: %(names)s") % {"names": "、".join(skill_names.get(s, "?") for s in held)})
    if not c.availability_stated:
        parts.append(_("Time not stated yet"))
    elif shared_mask:
        labels = slot_labels(shared_mask)
        shown = "、".join(labels[:3]) + ("…" if len(labels) > 3 else "")
        parts.append(_("Time: %(slots)s") % {"slots": shown})
    if c.willing:
        parts.append(_("Wants to serve: %(aspect)s") % {"aspect": aspect_name})
    if c.proximity:
        parts.append(PROXIMITY_TEXT[c.proximity]())
    if show_load and c.load:
        parts.append(_("Already holds %(n)s posts") % {"n": c.load})
    return " · ".join(parts)


def skill_names() -> dict[int, str]:
    return dict(Skill.objects.values_list("pk", "name"))


# --- SQL helpers ------------------------------------------------------------------------------------------
def _in(values) -> tuple[str, list]:
    values = list(values)
    if not values:
        return "(NULL)", []
    return "(" + ", ".join(["%s"] * len(values)) + ")", values


def _overlap_sql(column: str, mask: int, cap: int) -> str:
    terms = [f"(CASE WHEN ({column} & {1 << i}) <> 0 THEN 1 ELSE 0 END)" for i in bits(mask)]
    total = " + ".join(terms) if terms else "0"
    return f"({total})", f"(CASE WHEN ({total}) > {cap} THEN {cap} ELSE ({total}) END)"


ACTIVE = tuple(str(s) for s in ACTIVE_CLAIM_STATUSES)


@dataclass
class Match:
    obj: object
    score: int
    reasons: str
    components: Components = field(repr=False, default=None)


# --- Members for a post -----------------------------------------------------------------------------------
def _members_sql(p: PostFacts, reach: list[int], area_communities: list[int], w: dict) -> tuple[str, list]:
    member_t, skills_t = Member._meta.db_table, Member.skills.through._meta.db_table
    will_t, claim_t = MemberWillingness._meta.db_table, Claim._meta.db_table
    wanted = sorted(p.required | p.preferred)
    overlap, capped = _overlap_sql("m.availability", p.slot_mask, w["slot_cap"])
    if wanted:
        req_in, req_params = _in(sorted(p.required))
        pref_in, pref_params = _in(sorted(p.preferred))
        all_in, all_params = _in(wanted)
        join_kind = "JOIN" if p.required else "LEFT JOIN"
        skills_join = (
            f"{join_kind} (SELECT member_id, SUM(CASE WHEN skill_id IN {req_in} THEN 1 ELSE 0 END) AS req_n, "  # noqa: S608
            f"SUM(CASE WHEN skill_id IN {pref_in} THEN 1 ELSE 0 END) AS pref_n FROM {skills_t} "
            f"WHERE skill_id IN {all_in} GROUP BY member_id) sk ON sk.member_id = m.id"
        )
        skill_params = req_params + pref_params + all_params
        req_n, pref_n = "COALESCE(sk.req_n, 0)", "COALESCE(sk.pref_n, 0)"
    else:
        skills_join, req_n, pref_n, skill_params = "", "0", "0", []
    status_in, status_params = _in(ACTIVE)
    prox_cases, prox_params = [], []
    for level, column in (
        ("microgrid", "m.microgrid_id"),
        ("estate", "m.estate_id"),
        ("community", "m.community_id"),
    ):
        if p.place[level] is not None:
            prox_cases.append(f"WHEN {column} = %s THEN {w[level]}")
            prox_params.append(p.place[level])
    if area_communities:
        area_in, area_params = _in(area_communities)
        prox_cases.append(f"WHEN m.community_id IN {area_in} THEN {w['area']}")
        prox_params += area_params
    prox = f"(CASE {' '.join(prox_cases)} ELSE 0 END)" if prox_cases else "0"
    reach_in, reach_params = _in(reach)
    required_filter = f"AND {req_n} = {len(p.required)}" if p.required else ""
    # Only generated integers, table names and %s placeholders are interpolated into the SQL below.
    inner = f"""
        SELECT m.id AS id, m.availability AS availability, {req_n} AS req_n, {pref_n} AS pref_n,
               {overlap} AS overlap, CASE WHEN w.member_id IS NULL THEN 0 ELSE 1 END AS willing,
               COALESCE(ld.n, 0) AS load_n, {prox} AS prox,
               ({w["skill_required"]} * {req_n} + {w["skill_preferred"]} * {pref_n} + {w["slot"]} * {capped}
                + CASE WHEN w.member_id IS NULL THEN 0 ELSE {w["willing"]} END + {prox}
                - {w["load"]} * COALESCE(ld.n, 0)) AS score
        FROM {member_t} m
        {skills_join}
        LEFT JOIN {will_t} w ON w.member_id = m.id AND w.aspect_id = %s
        LEFT JOIN (SELECT member_id, COUNT(*) AS n FROM {claim_t}
                   WHERE status IN {status_in} GROUP BY member_id) ld
               ON ld.member_id = m.id
        WHERE m.status = %s AND m.community_id IN {reach_in}
          AND (m.availability = 0 OR (m.availability & {p.slot_mask}) <> 0)
          {required_filter}
          AND NOT EXISTS (SELECT 1 FROM {claim_t} c WHERE c.member_id = m.id AND c.status IN {status_in}
                          AND c.post_id = %s)
    """  # noqa: S608
    # Placeholders in order: proximity (SELECT column, then again in score), skills join, willingness, load's
    # status list, member status, reach, then the NOT EXISTS status list and the post id.
    params = (
        prox_params
        + prox_params
        + skill_params
        + [p.aspect_id]
        + status_params
        + [str(Status.APPROVED)]
        + reach_params
        + status_params
        + [p.id]
    )
    return inner, params


SHOWN_MEMBER_FIELDS = (
    "id",
    "name",
    "status",
    "community_id",
    "estate_id",
    "microgrid_id",
    "user_id",
    "community__name",
    "community__path",
    "community__code",
    "microgrid__name",
)


def members_for_post(post: Post, *, limit: int = 20) -> list[Match]:
    """The best members to invite to ``post``: eligible only, best first, with reasons."""
    p = post_facts(post)
    if not p.claimable:
        return []
    w = weights()
    reach = list(
        OrgUnit.objects.filter(subtree_q(post.org.path), kind=OrgKind.COMMUNITY).values_list("pk", flat=True)
    )
    area_communities = []
    if p.place["area"] is not None:
        area = OrgUnit.objects.get(pk=p.place["area"])
        area_communities = list(
            OrgUnit.objects.filter(subtree_q(area.path), kind=OrgKind.COMMUNITY).values_list("pk", flat=True)
        )
    inner, params = _members_sql(p, reach, area_communities, w)
    schedule = Schedule.of(post)
    names = skill_names()
    found: list[Match] = []
    offset, batch = 0, limit + 10
    while len(found) < limit:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT * FROM ({inner}) t ORDER BY score DESC, id LIMIT {batch} OFFSET {offset}",  # noqa: S608
                params,
            )
            columns = [c[0] for c in cursor.description]
            rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
        if not rows:
            break
        offset += batch
        ids = [r["id"] for r in rows]
        clashing = _members_with_clash(ids, schedule, post.pk)
        # Only what a row shows: personal data stays encrypted and unread.
        members = {
            m.pk: m
            for m in Member.objects.filter(pk__in=ids)
            .select_related("community", "microgrid")
            .only(*SHOWN_MEMBER_FIELDS)
        }
        held_by: dict[int, set[int]] = {}
        wanted = p.required | p.preferred
        if wanted:
            through = Member.skills.through.objects.filter(member_id__in=ids, skill_id__in=wanted)
            for member_id, skill_id in through.values_list("member_id", "skill_id"):
                held_by.setdefault(member_id, set()).add(skill_id)
        for row in rows:
            if row["id"] in clashing:
                continue
            member = members[row["id"]]
            held = held_by.get(member.pk, set())
            c = Components(
                required=sorted(p.required & held),
                preferred=sorted(p.preferred & held),
                overlap=int(row["overlap"]),
                willing=bool(row["willing"]),
                proximity=_level(p.place, _units_of(member, area_communities, p)),
                load=int(row["load_n"]),
                availability_stated=row["availability"] != 0,
                score=int(row["score"]),
            )
            text = reasons(
                c,
                shared_mask=row["availability"] & p.slot_mask,
                aspect_name=p.aspect_name,
                skill_names=names,
                show_load=True,
            )
            found.append(Match(member, c.score, text, c))
            if len(found) >= limit:
                break
        if len(rows) < batch:
            break
    return found


def _level(place: dict, units: dict) -> str | None:
    return next((lv for lv in PROXIMITY if place[lv] is not None and place[lv] == units[lv]), None)


def _units_of(member: Member, area_communities: list[int], p: PostFacts) -> dict:
    in_area = member.community_id in area_communities
    return {
        "microgrid": member.microgrid_id,
        "estate": member.estate_id,
        "community": member.community_id,
        "area": p.place["area"] if in_area else None,
    }


def _members_with_clash(member_ids: list[int], schedule: Schedule, post_id: int) -> set[int]:
    claims = (
        Claim.objects.filter(member_id__in=member_ids, status__in=ACTIVE_CLAIM_STATUSES)
        .exclude(post_id=post_id)
        .select_related("post")
        .prefetch_related("post__sessions")
    )
    return {c.member_id for c in claims if clash(schedule, Schedule.of(c.post))}


# --- Posts for a member -----------------------------------------------------------------------------------
def reachable_owner_ids(member: Member) -> list[int]:
    """The member's community and the units above it that may own posts (area, street)."""
    return list(
        OrgUnit.objects.filter(
            code__in=member.community.ancestor_codes(),
            kind__in=[OrgKind.COMMUNITY, OrgKind.AREA, OrgKind.STREET],
        ).values_list("pk", flat=True)
    )


def _posts_sql(m: MemberFacts, owners: list[int], aspect_ids: list[int], w: dict) -> tuple[str, list]:
    post_t, claim_t = Post._meta.db_table, Claim._meta.db_table
    req_t, pref_t = Post.required_skills.through._meta.db_table, Post.preferred_skills.through._meta.db_table
    overlap, capped = _overlap_sql("p.slot_mask", m.availability, w["slot_cap"])
    skills_in, skills_params = _in(sorted(m.skills))
    aspect_in, aspect_params = _in(aspect_ids)
    prox_cases, prox_params = [], []
    for level in PROXIMITY:
        if m.units[level] is not None:
            prox_cases.append(f"WHEN p.place_{level}_id = %s THEN {w[level]}")
            prox_params.append(m.units[level])
    prox = f"(CASE {' '.join(prox_cases)} ELSE 0 END)" if prox_cases else "0"
    owners_in, owners_params = _in(owners)
    status_in, status_params = _in(ACTIVE)
    sql = f"""
        SELECT p.id AS id, p.slot_mask AS slot_mask, COALESCE(r.have, 0) AS req_n,
               COALESCE(pr.have, 0) AS pref_n,
               {overlap} AS overlap, CASE WHEN p.aspect_id IN {aspect_in} THEN 1 ELSE 0 END AS willing,
               {prox} AS prox,
               ({w["skill_required"]} * COALESCE(r.have, 0) + {w["skill_preferred"]} * COALESCE(pr.have, 0)
                + {w["slot"]} * {capped} + CASE WHEN p.aspect_id IN {aspect_in} THEN {w["willing"]} ELSE 0 END
                + {prox} - {w["load"]} * {m.load}) AS score
        FROM {post_t} p
        LEFT JOIN (SELECT post_id, COUNT(*) AS n,
                          SUM(CASE WHEN skill_id IN {skills_in} THEN 1 ELSE 0 END) AS have
                   FROM {req_t} GROUP BY post_id) r ON r.post_id = p.id
        LEFT JOIN (SELECT post_id, COUNT(*) AS have FROM {pref_t}
                   WHERE skill_id IN {skills_in} GROUP BY post_id) pr
               ON pr.post_id = p.id
        WHERE p.status = %s AND p.claimed_count < p.capacity AND p.org_id IN {owners_in}
          AND (p.last_day IS NULL OR p.last_day >= %s)
          AND COALESCE(r.n, 0) = COALESCE(r.have, 0)
          AND ({m.availability} = 0 OR (p.slot_mask & {m.availability}) <> 0)
          AND NOT EXISTS (SELECT 1 FROM {claim_t} c WHERE c.post_id = p.id AND c.member_id = %s
                          AND c.status IN {status_in})
    """  # noqa: S608
    params = (
        aspect_params
        + prox_params
        + aspect_params
        + prox_params
        + skills_params
        + skills_params
        + [str(PostStatus.OPEN)]
        + owners_params
        + [today()]
        + [m.id]
        + status_params
    )
    return sql, params


def posts_for_member(member: Member, *, limit: int = 10) -> list[Match]:
    """为你推荐: open posts the member may claim, best first, with reasons (none until approved)."""
    if member.status != Status.APPROVED:
        return []
    m = member_facts(member)
    w = weights()
    aspect_ids = list(ServiceAspect.objects.filter(code__in=m.aspects).values_list("pk", flat=True))
    sql, params = _posts_sql(m, reachable_owner_ids(member), aspect_ids, w)
    mine = [schedule for _post, schedule in _schedules_of(member)]
    names = skill_names()
    found: list[Match] = []
    offset, batch = 0, limit * 2 + 10
    while len(found) < limit:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT * FROM ({sql}) t ORDER BY score DESC, id LIMIT {batch} OFFSET {offset}",  # noqa: S608
                params,
            )
            columns = [c[0] for c in cursor.description]
            rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
        if not rows:
            break
        offset += batch
        posts = {
            p.pk: p
            for p in Post.objects.filter(pk__in=[r["id"] for r in rows])
            .select_related("aspect", "venue", "org")
            .prefetch_related("sessions", "required_skills", "preferred_skills")
        }
        for row in rows:
            post = posts[row["id"]]
            if mine and any(clash(Schedule.of(post, list(post.sessions.all())), s) for s in mine):
                continue
            c = Components(
                required=sorted({s.pk for s in post.required_skills.all()} & m.skills),
                preferred=sorted({s.pk for s in post.preferred_skills.all()} & m.skills),
                overlap=int(row["overlap"]),
                willing=bool(row["willing"]),
                proximity=_level({lv: getattr(post, f"place_{lv}_id") for lv in PROXIMITY}, m.units),
                load=m.load,
                availability_stated=m.availability != 0,
                score=int(row["score"]),
            )
            text = reasons(
                c,
                shared_mask=m.availability & row["slot_mask"],
                aspect_name=post.aspect.name,
                skill_names=names,
                show_load=False,
            )
            found.append(Match(post, c.score, text, c))
            if len(found) >= limit:
                break
        if len(rows) < batch:
            break
    return found


def _schedules_of(member: Member) -> list[tuple[Post, Schedule]]:
    claims = (
        Claim.objects.filter(member=member, status__in=ACTIVE_CLAIM_STATUSES)
        .select_related("post")
        .prefetch_related("post__sessions")
    )
    return [(c.post, Schedule.of(c.post)) for c in claims]


# --- The plain baseline (tests and bench) -----------------------------------------------------------------
def rank_naive(post: Post, members, *, limit: int = 20) -> list[tuple[int, int]]:
    """Score ``members`` one by one in Python (facts loaded per member): the reference the SQL is checked
    against, and the baseline the benchmark measures. Returns (member id, score) best first."""
    p = post_facts(post)
    schedule = Schedule.of(post)
    scored = []
    for member in members:
        m = member_facts(member)
        if not eligible(p, m):
            continue
        if Claim.objects.filter(member_id=m.id, post_id=p.id, status__in=ACTIVE_CLAIM_STATUSES).exists():
            continue
        if any(clash(schedule, s) for _post, s in _schedules_of(member)):
            continue
        scored.append((m.id, score_pair(p, m).score))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:limit]
