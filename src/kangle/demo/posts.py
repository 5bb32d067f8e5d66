"""Service posts (服务岗位) in 康健街道 across all 9 aspects, at 康乐会客厅, 雷锋亭 and the communities'
service stations, with claims placed from the matching (one claimed by ``kj_member`` itself).
Runs after the members step."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from kangle.accounts.models import User
from kangle.orgs.models import OrgKind, OrgUnit, Venue
from kangle.orgs.selectors import subtree_q
from kangle.posts import matching, services
from kangle.posts.models import ClaimSource, Post, PostStatus

# (title, aspect, venue, weekly slots, required skills, preferred skills, capacity, difficulty,
#  description)
STREET_POSTS = [
    (
        "爱心益剪 · 康乐会客厅",
        "convenience",
        "living_room",
        ["sat_am"],
        [],
        ["haircut"],
        6,
        2,
        "每月在康乐会客厅为老人义务理发，自带工具优先。",
    ),
    ("家电义修", "convenience", "living_room", ["sat_pm"], ["repair"], [], 4, 3, "小家电、水电简单维修。"),
    (
        "法律咨询角",
        "professional",
        "living_room",
        ["wed_eve"],
        ["legal"],
        [],
        2,
        3,
        "为居民提供法律咨询和调解建议。",
    ),
    (
        "健康义诊",
        "professional",
        "living_room",
        ["sun_am"],
        ["medical"],
        ["nursing"],
        3,
        3,
        "量血压、健康咨询。",
    ),
    (
        "心理疏导热线",
        "professional",
        "living_room",
        ["thu_eve"],
        ["counselling"],
        [],
        2,
        4,
        "倾听与心理疏导。",
    ),
    (
        "四点半课堂",
        "culture",
        "living_room",
        ["mon_pm", "wed_pm"],
        [],
        ["tutoring"],
        5,
        2,
        "放学后作业辅导。",
    ),
    ("文艺汇演排练", "culture", "living_room", ["fri_eve"], [], ["arts"], 8, 1, "社区文艺队排练与演出。"),
]
LEIFENG_POSTS = [
    ("雷锋亭平安巡逻", "safety", ["sat_eve", "sun_eve"], [], ["driving"], 6, 2, "夜间平安巡逻，防火防盗。"),
    (
        "雷锋亭便民服务",
        "convenience",
        ["sun_am"],
        [],
        ["repair", "haircut"],
        4,
        1,
        "便民工具借用、小修小补。",
    ),
]
COMMUNITY_POSTS = [
    ("垃圾分类指导", "civic", ["tue_eve"], [], [], 6, 1, "定时定点垃圾投放指导。"),
    ("楼组议事会", "building_group", ["thu_eve"], [], [], 4, 2, "参加楼组议事，收集邻里意见。"),
    ("邻里调解", "deliberation", ["sat_pm"], [], ["legal"], 3, 3, "参与邻里矛盾调解。"),
    ("夏送凉冬送暖", "elderly", ["sun_pm"], [], ["nursing"], 6, 2, "走访独居、高龄老人。"),
    ("独居老人结对关爱", "care", ["wed_pm"], [], ["nursing"], 4, 2, "一对一结对，每周探望。"),
]


def _venue(ref) -> Venue:
    return Venue.objects.get(pk=ref.pk) if ref.pk else Venue.objects.get(name=ref.name)


@dataclass
class _Poster:
    """Publishes the demo's posts as one admin at one moment, all starting on one day."""

    admin: object
    moment: dt.datetime
    starts_on: dt.date

    def make(
        self,
        org,
        title,
        aspect,
        venue,
        slots,
        required,
        preferred,
        capacity,
        difficulty,
        description,
        sessions=(),
    ) -> Post:
        return services.post_create(
            actor=self.admin,
            publish=True,
            now=self.moment,
            title=title,
            aspect=aspect,
            org=org,
            venue=venue.pk if venue else "",
            description=description,
            required_skills=required,
            preferred_skills=preferred,
            weekly_slots=slots,
            starts_on=self.starts_on,
            ends_on="",
            sessions=list(sessions),
            capacity=capacity,
            difficulty=difficulty,
        )


def build(ctx) -> None:
    moment = timezone.now()
    street = ctx.refs["street:KJ"]
    admin = ctx.refs.get("user:kj_admin") or User.objects.filter(is_superuser=True).first()
    poster = _Poster(admin, moment, timezone.localdate(moment) - dt.timedelta(days=30))
    posts = _street_posts(ctx, poster, street)
    posts += _community_posts(poster, street)
    posts += _dated_and_area_posts(ctx, poster, street)
    claims = _member_claim(ctx, moment) + _invited_claims(posts, admin, moment)
    ctx.summary["posts"] = Post.objects.filter(status__in=[PostStatus.OPEN, PostStatus.FULL]).count()
    ctx.summary["claims"] = claims


def _street_posts(ctx, poster: _Poster, street) -> list[Post]:
    """The street's posts at the living room, and the 雷锋驿站's own."""
    living_room = _venue(ctx.refs["venue:living_room"])
    leifeng = _venue(ctx.refs["venue:leifeng"])
    posts = [
        poster.make(
            street, title, aspect, living_room, slots, required, preferred, capacity, difficulty, text
        )
        for title, aspect, _where, slots, required, preferred, capacity, difficulty, text in STREET_POSTS
    ]
    posts += [
        poster.make(
            leifeng.org, title, aspect, leifeng, slots, required, preferred, capacity, difficulty, text
        )
        for title, aspect, slots, required, preferred, capacity, difficulty, text in LEIFENG_POSTS
    ]
    return posts


def _community_posts(poster: _Poster, street) -> list[Post]:
    """Every other community post in each community, at its service centre."""
    communities = list(
        OrgUnit.objects.filter(subtree_q(street.path), kind=OrgKind.COMMUNITY).order_by("path")
    )
    stations = {v.org_id: v for v in Venue.objects.filter(org__in=communities, kind="service_centre")}
    posts = []
    for i, community in enumerate(communities):
        for j, (title, aspect, slots, required, preferred, capacity, difficulty, text) in enumerate(
            COMMUNITY_POSTS
        ):
            if (i + j) % 2:
                continue
            posts.append(
                poster.make(
                    community,
                    f"{community.name} · {title}",
                    aspect,
                    stations.get(community.pk),
                    slots,
                    required,
                    preferred,
                    capacity,
                    difficulty,
                    text,
                )
            )
    return posts


def _dated_and_area_posts(ctx, poster: _Poster, street) -> list[Post]:
    """A dated session (夏送凉 at the living room on a fixed Saturday afternoon) and one area-wide post."""
    living_room = _venue(ctx.refs["venue:living_room"])
    starts_on = poster.starts_on
    day = starts_on + dt.timedelta(days=(5 - starts_on.weekday()) % 7 + 35)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(14, 0)))
    dated = poster.make(
        street,
        "夏送凉 · 集中慰问",
        "elderly",
        living_room,
        [],
        [],
        ["nursing"],
        10,
        2,
        "集中走访慰问高温下的独居老人。",
        sessions=[(start, start + dt.timedelta(hours=3))],
    )
    area = poster.make(
        ctx.refs["area:KJ-A1"],
        "第一片区防汛值守",
        "safety",
        None,
        ["sat_am", "sun_am"],
        [],
        [],
        8,
        3,
        "汛期片区值守、巡查积水点。",
    )
    return [dated, area]


def _member_claim(ctx, moment) -> int:
    """kj_member claims their best-matched post themselves (1, or 0 without that persona)."""
    member_user = ctx.refs.get("user:kj_member")
    if member_user is None:
        return 0
    from kangle.members.selectors import own_file

    own = own_file(member_user)
    picks = matching.posts_for_member(own, limit=3) if own else []
    if not picks:
        return 0
    services.claim_create(actor=member_user, post=picks[0].obj, now=moment)
    return 1


def _invited_claims(posts: list[Post], admin, moment) -> int:
    """Part of each post filled from its best-matched members (none, a quarter, a half, three quarters)."""
    claims = 0
    for k, post in enumerate(posts):
        post.refresh_from_db()
        target = max(0, post.capacity * (k % 4) // 4 - post.claimed_count)
        for match in matching.members_for_post(post, limit=target) if target else []:
            services.claim_create(
                actor=admin,
                post=post,
                member=match.obj,
                source=ClaimSource.INVITATION,
                score=match.score,
                now=moment,
            )
            claims += 1
    return claims
