"""Points and recognition for 康健街道: the default rule, awards for a few hundred members (source type
"demo", through ``award_for_service`` — activities will feed real service records the same way), benefits
at 康乐会客厅, a commendation letter, nominations, and a member story modelled on the article's salon
manager (an invented person: 林美华 of the invented 悦颜美发沙龙)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kangle.core.crypto import blind_index
from kangle.core.masking import mask_phone
from kangle.members.constants import Aspect, Channel, PoliticalStatus, Status
from kangle.members.models import Employer, EmployerPartyOrg, HouseholdMember, Member
from kangle.orgs.selectors import subtree_q
from kangle.points import services as points
from kangle.recognition import services as recognition
from kangle.recognition.models import Honour

TITLES = [
    ("爱心益剪", Aspect.CONVENIENCE, 3, 120),
    ("夏送凉", Aspect.ELDERLY, 2, 90),
    ("冬送暖", Aspect.ELDERLY, 2, 90),
    ("楼道清洁", Aspect.BUILDING_GROUP, 1, 60),
    ("平安巡逻", Aspect.SAFETY, 2, 120),
    ("法律咨询", Aspect.PROFESSIONAL, 4, 120),
    ("义诊", Aspect.PROFESSIONAL, 4, 180),
    ("课业辅导", Aspect.CULTURE, 3, 120),
    ("结对探访", Aspect.CARE, 2, 60),
    ("议事协商", Aspect.DELIBERATION, 3, 90),
]
AWARDED_MEMBERS = {"street": 300, "district": 300, "city": 300}


def _local(year, month, day, hour=9, minute=0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, hour, minute))


def _salon_manager(ctx, community) -> Member:
    employer = Employer.objects.create(
        name="悦颜美发沙龙有限公司",
        contact_person="周经理",
        contact_phone="021-54000000",
        email="hr@yueyan-salon.example.com",
        address="康健路 66 号",
    )
    party_org = EmployerPartyOrg.objects.create(
        employer=employer,
        name="悦颜美发沙龙有限公司党支部",
        contact_person="周敏",
        contact_phone="021-54000001",
        email="party@yueyan-salon.example.com",
        address="康健路 66 号",
        account=ctx.refs.get("user:kj_employer"),
    )
    phone = "13661234567"
    return Member.objects.create(
        community=community,
        org=community,
        name="林美华",
        gender="f",
        birth_year=1982,
        phone=phone,
        phone_hash=blind_index(phone),
        phone_mask=mask_phone(phone),
        political_status=PoliticalStatus.FULL_MEMBER,
        employer=employer,
        party_org=party_org,
        position="部门经理",
        channel=Channel.PHONE,
        status=Status.APPROVED,
        registered_at=_local(2021, 2, 20),
        approved_at=_local(2021, 2, 22),
    )


def build(ctx) -> None:
    street = ctx.refs["street:KJ"]
    admin = ctx.refs.get("user:kj_admin")
    now = timezone.now().replace(microsecond=0)
    rule_start = _local(2021, 1, 1, 0, 0)
    rule = points.rule_create(
        actor=admin,
        street=street,
        effective_from=rule_start,
        now=rule_start,
        note="默认积分表：⌊(难度+时长档)/2⌋；日上限10分、月上限60分",
    )
    community = ctx.refs["community:KJ-C01"]
    salon = _salon_manager(ctx, community)
    served, beneficiaries = _salon_awards(ctx, salon, community, now)
    entries = served + _history_awards(rule, _street_awards(ctx, street, salon, now))
    mine = _member_history(ctx, admin, salon, community, now)
    if mine is not None:
        entries += 7
    first_slot = _benefits_create(ctx, admin, street, now)
    if mine is not None and first_slot is not None:
        # kj_member books the health check for their child.
        points.booking_create(
            actor=admin, slot=first_slot, member=mine, household_member=mine.household.first(), now=now
        )
    _recognition_create(ctx, admin, street, salon, now, served=served, beneficiaries=beneficiaries)

    ctx.refs["member:salon_manager"] = salon
    ctx.summary["points_rule_version"] = rule.version
    ctx.summary["ledger_entries"] = entries
    ctx.summary["salon_beneficiaries"] = beneficiaries


def _salon_awards(ctx, salon, community, now) -> tuple[int, int]:
    """The salon manager: a free haircut day every month since March 2021, about 35 people each time.
    Returns (haircut days, people served)."""
    month, served, beneficiaries = _local(2021, 3, 13), 0, 0
    while month < now - dt.timedelta(days=7):
        people = ctx.rng.randint(28, 42)
        beneficiaries += people
        points.award_for_service(
            actor=None,
            member=salon,
            source_type="demo",
            source_id=f"salon-{month:%Y%m}",
            difficulty=3,
            duration_minutes=180,
            occurred_at=month,
            now=month + dt.timedelta(hours=5),
            evidence={
                "title": "爱心益剪",
                "hours": 3,
                "beneficiaries": people,
                "aspect": Aspect.CONVENIENCE,
                "community": community.code,
                "rating": ctx.rng.choice([5, 5, 5, 4]),
            },
        )
        served += 1
        month = (month + dt.timedelta(days=32)).replace(day=13)
    return served, beneficiaries


def _street_awards(ctx, street, salon, now) -> list[tuple]:
    """A few hundred approved members in the street get a handful of awards over the past year."""
    pool = list(
        Member.objects.filter(subtree_q(street.path, "community__path"), status=Status.APPROVED)
        .exclude(pk=salon.pk)
        .select_related("community", "microgrid", "org")
        .order_by("pk")[: AWARDED_MEMBERS[ctx.scale]]
    )
    awards = []
    for member in pool:
        for n in range(ctx.rng.randint(1, 6)):
            title, aspect, difficulty, minutes = ctx.rng.choice(TITLES)
            at = now - dt.timedelta(days=ctx.rng.randint(8, 360), hours=ctx.rng.randint(0, 8))
            evidence = {
                "title": title,
                "beneficiaries": ctx.rng.randint(3, 40),
                "aspect": aspect,
                "community": member.community.code,
            }
            awards.append(
                (member, f"m{member.pk}-{n}", difficulty, minutes + ctx.rng.choice([0, 30, 60]), at, evidence)
            )
    return awards


def _member_history(ctx, admin, salon, community, now) -> Member | None:
    """kj_member: awards, one revoked record, and a manual adjustment (7 entries), and a child."""
    mine = (
        Member.objects.filter(user=ctx.refs.get("user:kj_member")).select_related("community", "org").first()
    )
    if mine is not None:
        if mine.party_org_id is None:
            Member.objects.filter(pk=mine.pk).update(party_org=salon.party_org, employer=salon.employer)
            mine.refresh_from_db()
        for n, (title, aspect, difficulty, minutes) in enumerate(TITLES[:5]):
            at = now - dt.timedelta(days=60 - n * 9)
            points.award_for_service(
                actor=None,
                member=mine,
                source_type="demo",
                source_id=f"kj_member-{n}",
                difficulty=difficulty,
                duration_minutes=minutes,
                occurred_at=at,
                now=at + dt.timedelta(hours=2),
                evidence={
                    "title": title,
                    "beneficiaries": 10 + n,
                    "aspect": aspect,
                    "community": community.code,
                },
            )
        points.reverse_award(
            actor=admin,
            source_type="demo",
            source_id="kj_member-4",
            reason="签到记录有误，已撤销",
            now=now - dt.timedelta(days=20),
        )
        points.points_adjust(
            actor=admin,
            member=mine,
            points=10,
            reason="补录2020年社区防疫志愿服务",
            now=now - dt.timedelta(days=15),
        )
        if not mine.household.exists():
            HouseholdMember.objects.create(member=mine, name="张小宇", relation="child", birth_year=2014)
    return mine


def _benefits_create(ctx, admin, street, now):
    """Benefits at 康乐会客厅 (the street's venue) and a week of slots; returns the first health-check slot."""
    living_room = ctx.refs["venue:living_room"]
    points.benefit_create(
        actor=admin,
        org=street,
        kind="early_signup",
        name="积分优先报名",
        description="积分满20分的党员及其家庭成员，可比其他人提前48小时报名主题活动。",
        min_points=20,
        early_hours=48,
        now=now,
    )
    room = points.benefit_create(
        actor=admin,
        org=street,
        kind="resource",
        name="康乐会客厅 活动室",
        resource_kind="room",
        venue=living_room,
        min_points=5,
        cost_points=2,
        description="家庭聚会、兴趣小组可预约，每次2小时。",
        now=now,
    )
    check = points.benefit_create(
        actor=admin,
        org=street,
        kind="resource",
        name="康乐会客厅 健康检查",
        resource_kind="service",
        venue=living_room,
        min_points=10,
        description="社区卫生服务中心医生驻点：血压、血糖、心电图。",
        now=now,
    )
    points.benefit_create(
        actor=admin,
        org=street,
        kind="priority_pass",
        name="社区事务受理中心 优先办理",
        min_points=30,
        pass_valid_days=30,
        now=now,
    )
    day = timezone.localtime(now).date()
    first_slot = None
    for offset in range(1, 8):
        start = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=offset), dt.time(14, 0)))
        points.slot_create(
            actor=admin,
            benefit=room,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=2),
            capacity=1,
            priority_min_points=30,
            release_at=start - dt.timedelta(hours=24),
            now=now,
        )
        check_slot = points.slot_create(
            actor=admin,
            benefit=check,
            starts_at=start.replace(hour=9),
            ends_at=start.replace(hour=11),
            capacity=12,
            now=now,
        )
        first_slot = first_slot or check_slot
    return first_slot


def _recognition_create(ctx, admin, street, salon, now, *, served: int, beneficiaries: int) -> None:
    """The letter to the salon's Party branch, the nominations, the story."""
    letter = recognition.letter_draft(actor=admin, member=salon, now=now)
    letter = recognition.letter_issue(actor=admin, letter=letter, now=now)
    recognition.letter_send(actor=admin, letter=letter, now=now)
    nomination = recognition.nominate(
        actor=admin,
        member=salon,
        honour=Honour.EXCELLENT_MEMBER,
        now=now,
        reason="2021年起带领支部党员、入党积极分子和员工每月到社区开展“爱心益剪”义剪，惠及群众2000余人次。",
    )
    nomination = recognition.nomination_review(
        actor=ctx.refs.get("user:kj_area") or admin,
        nomination=nomination,
        approve=True,
        comment="事迹属实",
        now=now,
    )
    nomination = recognition.nomination_review(
        actor=admin, nomination=nomination, approve=True, comment="同意推荐", now=now
    )
    recognition.nomination_result(
        actor=admin, nomination=nomination, honoured=True, result="徐汇区优秀共产党员", now=now
    )
    recognition.nominate(
        actor=admin,
        party_org=salon.party_org,
        honour=Honour.ADVANCED_ORG,
        now=now,
        reason="支部集体报到、集体服务，长期坚持社区义剪。",
    )
    story = recognition.story_create(
        actor=admin,
        org=street,
        title="一把剪刀剪出邻里温情——记在职党员林美华",
        members=[salon],
        activity_refs=[f"demo:salon-{m}" for m in ("202103", "202406")],
        now=now,
        summary=f"自2021年起，林美华每月带着支部党员和员工回到康乐居民区义剪，累计{served}次、惠及群众{beneficiaries}人次。",
        body=(
            f"林美华是悦颜美发沙龙有限公司的部门经理，也是一名在职党员。2021年初，她回到居住地康乐居民区报到，"
            f"认领了“便民服务”岗位。\n"
            f"从那年3月起，每月第二个周六，她都带着支部党员、入党积极分子和门店员工，在康乐会客厅摆开理发椅，"
            f"为社区老人、残障人士和行动不便的居民免费理发，遇到卧床的老人就上门服务。\n"
            f"几年来，“爱心益剪”累计开展{served}次，惠及群众{beneficiaries}人次。居民们说：“剪的是头发，暖的是人心。”\n"
            f"她被推荐并获评徐汇区优秀共产党员，她所在的支部也被推荐参评先进基层党组织。"
        ),
    )
    recognition.story_publish(actor=admin, story=story, now=now)


def _history_awards(rule, awards) -> int:
    """Past awards written in bulk: the same arithmetic as ``points.award_for_service`` (the rule's table,
    the daily and monthly caps, one ledger row and one audit event each, the cached balance), without a
    locked read-modify-write round trip per row — nobody else writes while the demo builds its history.
    ``kangle ledger-check`` proves the result like any other ledger."""
    from collections import defaultdict

    from django.db.models import F

    from kangle.core.models import AuditEvent
    from kangle.points.models import Balance, EntryKind, LedgerEntry
    from kangle.points.services import award_key, member_dimensions

    day_totals: dict = defaultdict(int)
    month_totals: dict = defaultdict(int)
    balances: dict = defaultdict(lambda: [0, 0])
    dimensions: dict = {}
    rows, events = [], []
    for member, source_id, difficulty, minutes, occurred_at, evidence in awards:
        day = timezone.localtime(occurred_at).date()
        day_key, month_key = (member.pk, day), (member.pk, day.year, day.month)
        base = rule.points_for(difficulty, minutes)
        day_room, month_room = (
            rule.daily_cap - day_totals[day_key],
            rule.monthly_cap - month_totals[month_key],
        )
        points = max(0, min(base, day_room, month_room))
        capped = ("daily" if day_room <= month_room else "monthly") if points < base else ""
        day_totals[day_key] += points
        month_totals[month_key] += points
        balances[member.pk][0] += points
        balances[member.pk][1] += 1
        if member.pk not in dimensions:
            dimensions[member.pk] = member_dimensions(member)
        recorded = occurred_at + dt.timedelta(hours=4)
        key = award_key("demo", source_id)
        rows.append(
            LedgerEntry(
                member=member,
                kind=EntryKind.AWARD,
                points=points,
                idempotency_key=key,
                source_type="demo",
                source_id=source_id,
                rule=rule,
                rule_version=rule.version,
                difficulty=difficulty,
                duration_minutes=minutes,
                base_points=base,
                occurred_at=occurred_at,
                occurred_on=day,
                recorded_at=recorded,
                reason=f"capped:{capped}" if capped else "",
                evidence=evidence,
                **dimensions[member.pk],
            )
        )
        events.append(
            AuditEvent(
                verb="ledger.award",
                object_type=member._meta.label_lower,
                object_id=str(member.pk),
                object_repr=str(member)[:200],
                org_path=member.org.path,
                at=recorded,
                details={"key": key, "points": points, "base": base, "rule_version": rule.version},
            )
        )
    LedgerEntry.objects.bulk_create(rows, batch_size=500)
    AuditEvent.objects.bulk_create(events, batch_size=500)
    existing = set(Balance.objects.filter(member_id__in=balances).values_list("member_id", flat=True))
    for pk in existing:
        total, count = balances.pop(pk)
        Balance.objects.filter(pk=pk).update(total=F("total") + total, entries=F("entries") + count)
    Balance.objects.bulk_create(
        [Balance(member_id=pk, total=total, entries=count) for pk, (total, count) in balances.items()],
        batch_size=500,
    )
    return len(rows)
