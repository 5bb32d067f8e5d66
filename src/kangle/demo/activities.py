"""Activities, whistle calls and service records for 康健街道, written through the services.

The article's figures — 4 themed activities, 150+ participant-times (参与人次), about 2,000 beneficiary-times
(惠及群众人次) — come out of these records: sign-ups (some past the capacity, moving up when others cancel),
staff check-ins and check-outs at the venue, the beneficiary count each organiser entered, and the
verification of the credited attendance. Nothing here writes a total.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from django.utils import timezone

from kangle.activities import services
from kangle.core.errors import UserError
from kangle.members.constants import Status
from kangle.members.models import Member
from kangle.orgs.models import Venue
from kangle.orgs.selectors import subtree_q
from kangle.posts.models import ServiceAspect

ZONE = timezone.get_fixed_timezone(8 * 60)

# title, theme, aspect, start (local), minutes, capacity, sign-ups, beneficiaries (low, high)
THEMED = [
    ("爱心益剪", "义务理发进社区", "convenience", dt.datetime(2025, 5, 17, 9, 0), 180, 45, 48, (820, 900)),
    ("夏送凉", "高温慰问独居老人", "elderly", dt.datetime(2025, 7, 19, 8, 30), 150, 40, 42, (480, 540)),
    ("冬送暖", "寒冬走访困难家庭", "elderly", dt.datetime(2025, 12, 20, 9, 0), 150, 40, 41, (400, 450)),
    ("平安守护", "楼道消防隐患排查", "safety", dt.datetime(2025, 9, 13, 14, 0), 120, 40, 40, (170, 210)),
]


def build(ctx) -> None:
    street = ctx.refs["street:KJ"]
    admin = ctx.refs["user:kj_admin"]
    aspects = {a.code: a for a in ServiceAspect.objects.all()}
    venue = Venue.objects.filter(pk=getattr(ctx.refs.get("venue:living_room"), "pk", None)).first()
    pool = list(
        Member.objects.filter(subtree_q(street.path, "community__path"), status=Status.APPROVED)
        .select_related("community", "org")
        .order_by("pk")
    )
    if len(pool) < 60:
        return
    totals = {"activities": 0, "signups": 0, "checkins": 0, "records_verified": 0, "records_pending": 0}
    for title, theme, aspect, start, minutes, capacity, signups, (low, high) in THEMED:
        starts_at = start.replace(tzinfo=ZONE)
        activity = services.activity_create(
            actor=admin,
            org=street,
            aspect=aspects[aspect],
            title=title,
            theme=theme,
            venue=venue,
            place=venue.address if venue else "康健街道",
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(minutes=minutes),
            capacity=capacity,
            difficulty=3 if aspect == "elderly" else 2,
            now=starts_at - dt.timedelta(days=14),
        )
        totals["activities"] += 1
        people = ctx.rng.sample(pool, signups)
        made = []
        for index, member in enumerate(people):
            made.append(
                services.signup_create(
                    actor=admin,
                    activity=activity,
                    member=member,
                    now=starts_at - dt.timedelta(days=10) + dt.timedelta(minutes=7 * index),
                )
            )
        totals["signups"] += len(made)
        # Two confirmed people cancel; the first on the waiting list moves up each time.
        for signup in [s for s in made if s.status == "confirmed"][:2]:
            services.signup_cancel(actor=admin, signup=signup, now=starts_at - dt.timedelta(days=2))
        confirmed = list(activity.signups.filter(status="confirmed").select_related("member__community"))
        # All but two confirmed participants turn up (so the participant-times land on the article's 150+
        # whatever the seed); a few leave early (not credited).
        absent = set(ctx.rng.sample(range(len(confirmed)), 2))
        for position, signup in enumerate(confirmed):
            if position in absent:
                continue
            arrived = starts_at - dt.timedelta(minutes=ctx.rng.randint(0, 15))
            services.attendance_check_in(actor=admin, activity=activity, member=signup.member, now=arrived)
            left = activity.ends_at + dt.timedelta(minutes=ctx.rng.randint(0, 20))
            if ctx.rng.random() < 0.1:
                left = starts_at + dt.timedelta(minutes=minutes // 3)
            services.attendance_check_out(actor=admin, activity=activity, member=signup.member, now=left)
            totals["checkins"] += 1
        services.activity_set_beneficiaries(
            actor=admin, activity=activity, count=ctx.rng.randint(low, high), now=activity.ends_at
        )
        for record in activity.service_records.select_related("member__community", "aspect", "activity"):
            try:
                services.record_verify(
                    actor=admin, record=record, now=activity.ends_at + dt.timedelta(days=1)
                )
                totals["records_verified"] += 1
            except UserError:
                totals["records_pending"] += 1  # the ledger refused (e.g. no points rule in force yet)
    _calls(ctx, admin, totals)
    ctx.summary.update({f"activities_{key}": value for key, value in totals.items()})


def _calls(ctx, admin, totals) -> None:
    """A community's flood-duty call answered by members and by the grid leader for the group, closed."""
    community = ctx.refs["community:KJ-C01"]
    grid_leader = ctx.refs.get("user:kj_grid")
    blown = dt.datetime(2025, 6, 20, 18, 0, tzinfo=ZONE)
    call = services.call_create(
        actor=admin,
        org=community,
        title="暴雨防汛值守",
        place="康乐1小区地下车库入口",
        starts_at=blown + dt.timedelta(hours=2),
        ends_at=blown + dt.timedelta(hours=8),
        people_needed=6,
        deadline=blown + dt.timedelta(hours=2),
        now=blown,
    )
    members = list(
        Member.objects.filter(subtree_q(community.path, "community__path"), status=Status.APPROVED)
        .select_related("org", "community")
        .order_by("pk")[:20]
    )
    if grid_leader is not None:
        group = [
            m
            for m in members
            if grid_leader.scope_paths and m.org.path.startswith(grid_leader.scope_paths[0])
        ]
        if group:
            services.response_grid(
                actor=grid_leader,
                call=call,
                member_ids=[m.pk for m in group[:3]],
                now=blown + dt.timedelta(minutes=25),
            )
    member_user = ctx.refs.get("user:kj_member")
    if member_user is not None and Member.objects.filter(user=member_user, status=Status.APPROVED).exists():
        # (Refused harmlessly if the grid leader already reported them.)
        with contextlib.suppress(UserError):
            services.response_create(actor=member_user, call=call, now=blown + dt.timedelta(minutes=9))
    services.call_close(
        actor=admin,
        call=call,
        outcome="6 名党员到岗值守，清理积水、转移车辆 12 辆，无人员受伤",
        now=blown + dt.timedelta(hours=9),
    )
    totals["calls"] = 1
