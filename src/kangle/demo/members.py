"""Member files (一人一档) for 康健街道: about 2,000 members over the 25 communities, through every
channel and
the 30 registration points, with skills, availability, willingness, and expected numbers per micro-grid.
``kj_member`` gets an approved file in 康乐居民区. At district and city scale every synthetic community gets a
few files too, so list benchmarks run against a city-sized table."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kangle.core.crypto import blind_index
from kangle.core.masking import mask_phone
from kangle.members.constants import DEFAULT_SKILLS, Aspect, Channel, PoliticalStatus, Relation, Status
from kangle.members.models import (
    Employer,
    EmployerPartyOrg,
    ExpectedCount,
    HouseholdMember,
    Member,
    MemberWillingness,
    Skill,
    StatusChange,
)
from kangle.members.party_accounts import party_org_account_link
from kangle.orgs.models import OrgKind, OrgUnit, RegistrationPoint
from kangle.orgs.selectors import subtree_q
from kangle.posts.models import ServiceAspect

KJ_MEMBERS = 2000
PER_SYNTHETIC_COMMUNITY = {"street": 0, "district": 8, "city": 8}
CHANNELS = [(Channel.PHONE, 45), (Channel.DESK, 25), (Channel.COLLECTIVE, 15), (Channel.IMPORT, 15)]
STATUSES = [
    (Status.APPROVED, 80),
    (Status.PENDING, 12),
    (Status.RETURNED, 4),
    (Status.TRANSFERRED, 2),
    (Status.LEFT, 2),
]
POLITICAL = [
    (PoliticalStatus.FULL_MEMBER, 82),
    (PoliticalStatus.PROBATIONARY, 8),
    (PoliticalStatus.APPLICANT, 6),
    (PoliticalStatus.MASSES, 4),
]
POSITIONS = ["职员", "工程师", "教师", "医生", "部门经理", "会计", "律师", "技术员", "护士", "项目主管"]


def _pick(rng, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def _employers(ctx) -> list[EmployerPartyOrg]:
    names = []
    while len(names) < 40:
        name = ctx.faker.company()
        if name not in names:
            names.append(name)
    employers = Employer.objects.bulk_create(
        [
            Employer(
                name=n,
                contact_person=ctx.faker.name(),
                contact_phone=f"021-{ctx.rng.randint(50000000, 69999999)}",
                email=f"party{i:02d}@example.com",
                address=ctx.faker.address()[:100],
            )
            for i, n in enumerate(names)
        ]
    )
    employers = list(Employer.objects.filter(name__in=names).order_by("pk"))
    EmployerPartyOrg.objects.bulk_create(
        [
            EmployerPartyOrg(
                employer=e,
                name=f"{e.name}党支部",
                contact_person=ctx.faker.name(),
                contact_phone=f"021-{ctx.rng.randint(50000000, 69999999)}",
                email=f"branch{i:02d}@example.com",
                address=e.address,
            )
            for i, e in enumerate(employers)
        ]
    )
    party_orgs = list(
        EmployerPartyOrg.objects.filter(employer__in=employers).select_related("employer").order_by("pk")
    )
    account = ctx.refs.get("user:kj_employer")
    if account is not None:
        # The employer account acts for two branches, so the demo shows the choice of branch.
        party_org_account_link(actor=None, party_orgs=party_orgs[:2], user=account)
    return party_orgs


def _file(
    ctx, *, community, grids_of, points_of, party_orgs, skills, moment, phone, serial
) -> tuple[Member, dict]:
    rng = ctx.rng
    grids = grids_of.get(community.pk, [])
    microgrid = rng.choice(grids) if grids else None
    estate = grids_of.get("estates", {}).get(microgrid.pk) if microgrid else None
    channel = _pick(rng, CHANNELS)
    status = _pick(rng, STATUSES)
    party_org = rng.choice(party_orgs) if channel == Channel.COLLECTIVE or rng.random() < 0.7 else None
    points = points_of.get(community.pk, [])
    point = rng.choice(points) if points and channel in (Channel.PHONE, Channel.DESK) else None
    registered = moment - dt.timedelta(days=rng.randint(5, 900), minutes=rng.randint(0, 1440))
    availability = 0
    for _ in range(rng.randint(1, 6)):
        availability |= 1 << rng.randrange(21)
    member = Member(
        community=community,
        microgrid=microgrid,
        estate=estate,
        org=microgrid or community,
        name=ctx.faker.name(),
        gender=rng.choice("mf"),
        birth_year=rng.randint(1962, 2000),
        phone=phone,
        phone_hash=blind_index(phone),
        phone_mask=mask_phone(phone),
        address=f"{ctx.faker.street_name()}{rng.randint(1, 999)}弄{rng.randint(1, 30)}号",
        political_status=_pick(rng, POLITICAL),
        employer=party_org.employer if party_org else None,
        party_org=party_org,
        position=rng.choice(POSITIONS),
        availability=availability,
        hours_per_month=rng.choice([2, 4, 4, 6, 8, 10, 12, 16]),
        channel=channel,
        point=point,
        status=status,
        registered_at=registered,
        approved_at=registered + dt.timedelta(days=2) if status in (Status.APPROVED, Status.LEFT) else None,
        left_at=registered + dt.timedelta(days=200) if status == Status.LEFT else None,
        return_reason="请补充工作单位党组织名称" if status == Status.RETURNED else "",
    )
    extras = {
        "skills": rng.sample(skills, k=rng.choice([0, 1, 1, 2, 2, 3])),
        "aspects": rng.sample(list(Aspect), k=rng.randint(1, 3)),
        "household": [
            (ctx.faker.name(), rng.choice(Relation.values), None) for _ in range(rng.choice([0, 0, 1, 2]))
        ],
        "serial": serial,
    }
    return member, extras


def _insert(files: list[tuple[Member, dict]]) -> None:
    through = Member.skills.through
    aspect_ids = dict(ServiceAspect.objects.values_list("code", "pk"))
    for start in range(0, len(files), 2000):
        chunk = files[start : start + 2000]
        members = Member.objects.bulk_create([m for m, _ in chunk])
        skills, wishes, household, history = [], [], [], []
        for member, extras in zip(members, [e for _, e in chunk], strict=True):
            skills.extend(through(member_id=member.pk, skill_id=pk) for pk in extras["skills"])
            wishes.extend(
                MemberWillingness(member_id=member.pk, aspect_id=aspect_ids[a]) for a in extras["aspects"]
            )
            household.extend(
                HouseholdMember(member_id=member.pk, name=n, relation=r, birth_year=y)
                for n, r, y in extras["household"]
            )
            history.append(
                StatusChange(
                    member_id=member.pk,
                    from_status="",
                    to_status=Status.PENDING,
                    community_id=member.community_id,
                    at=member.registered_at,
                    reason=f"channel:{member.channel}",
                )
            )
            if member.status != Status.PENDING:
                history.append(
                    StatusChange(
                        member_id=member.pk,
                        from_status=Status.PENDING,
                        to_status=member.status,
                        community_id=member.community_id,
                        at=member.approved_at or member.registered_at + dt.timedelta(days=1),
                    )
                )
        through.objects.bulk_create(skills)
        MemberWillingness.objects.bulk_create(wishes)
        HouseholdMember.objects.bulk_create(household)
        StatusChange.objects.bulk_create(history)


def build(ctx) -> None:
    moment = timezone.now().replace(microsecond=0)
    street = ctx.refs["street:KJ"]
    communities, grids, grids_of, points_of = _places(street)
    skills = _skills()
    party_orgs = _employers(ctx)
    # Expected numbers (底数) per micro-grid: somewhat above what registers, so coverage is below 100%.
    ExpectedCount.objects.bulk_create(
        [ExpectedCount(org=g, expected=ctx.rng.randint(20, 45), updated_at=moment) for g in grids]
    )
    phones = _Phones(ctx.rng)
    common = {"party_orgs": party_orgs, "skills": skills, "moment": moment}
    files = _kj_member_file(ctx, phones, grids_of=grids_of, points_of=points_of, **common)
    for serial in range(1, KJ_MEMBERS):
        community = communities[ctx.rng.randrange(len(communities))]
        files.append(
            _file(
                ctx,
                community=community,
                grids_of=grids_of,
                points_of=points_of,
                phone=phones.new(),
                serial=serial,
                **common,
            )
        )
    _insert(files)
    ctx.summary["members"] = len(files) + _synthetic_files(ctx, street, phones, common)
    ctx.summary["expected_microgrids"] = len(grids)


def _places(street):
    """The street's communities and micro-grids; each community's grids (and each grid's estate, under
    ``"estates"``) and the registration points that reach it."""
    communities = list(
        OrgUnit.objects.filter(subtree_q(street.path), kind=OrgKind.COMMUNITY).order_by("path")
    )
    grids = list(OrgUnit.objects.filter(subtree_q(street.path), kind=OrgKind.MICROGRID).order_by("path"))
    by_path = {c.path: c for c in communities}
    grids_of: dict = {}
    for grid in grids:
        community = next(c for p, c in by_path.items() if grid.path.startswith(p))
        grids_of.setdefault(community.pk, []).append(grid)
    estates = {u.code: u for u in OrgUnit.objects.filter(subtree_q(street.path), kind=OrgKind.ESTATE)}
    grids_of["estates"] = {
        g.pk: next((estates[c] for c in g.ancestor_codes() if c in estates), None) for g in grids
    }
    points = list(RegistrationPoint.objects.filter(subtree_q(street.path, "org__path")).select_related("org"))
    points_of = {c.pk: [p for p in points if c.path.startswith(p.org.path)] for c in communities}
    return communities, grids, grids_of, points_of


def _skills() -> list[int]:
    if not Skill.objects.exists():  # a flushed database has lost the migration's seed
        Skill.objects.bulk_create(
            [Skill(code=c, name=n, sort_order=i) for i, (c, n) in enumerate(DEFAULT_SKILLS, 1)]
        )
    return list(Skill.objects.values_list("pk", flat=True))


class _Phones:
    """Unique mobile numbers from the demo's random generator."""

    def __init__(self, rng):
        self.rng = rng
        self.used: set[str] = set()

    def new(self) -> str:
        while True:
            number = f"13{self.rng.choice('5678')}{self.rng.randint(10000000, 99999999)}"
            if number not in self.used:
                self.used.add(number)
                return number


def _kj_member_file(ctx, phones: _Phones, **common) -> list[tuple[Member, dict]]:
    """``kj_member``'s approved file in 康乐居民区 (none without that persona)."""
    member_user = ctx.refs.get("user:kj_member")
    if member_user is None:
        return []
    phones.used.add(member_user.phone)
    member, extras = _file(
        ctx, community=ctx.refs["community:KJ-C01"], phone=member_user.phone, serial=0, **common
    )
    member.name, member.user, member.status, member.channel = (
        member_user.display_name,
        member_user,
        Status.APPROVED,
        Channel.PHONE,
    )
    member.approved_at, member.left_at, member.return_reason = (
        member.registered_at + dt.timedelta(days=1),
        None,
        "",
    )
    return [(member, extras)]


def _synthetic_files(ctx, street, phones: _Phones, common: dict) -> int:
    """At district and city scale, a few files in every synthetic community (outside 康健 and 华泥); the
    number written."""
    per_community = PER_SYNTHETIC_COMMUNITY[ctx.scale]
    if not per_community:
        return 0
    others = (
        OrgUnit.objects.filter(kind=OrgKind.COMMUNITY)
        .exclude(subtree_q(street.path))
        .exclude(subtree_q(ctx.refs["street:HN"].path))
    )
    total, batch = 0, []
    for community in others.iterator(chunk_size=2000):
        for _ in range(per_community):
            batch.append(
                _file(
                    ctx,
                    community=community,
                    grids_of={},
                    points_of={},
                    phone=phones.new(),
                    serial=0,
                    **common,
                )
            )
        if len(batch) >= 10000:
            _insert(batch)
            total += len(batch)
            batch = []
    _insert(batch)
    return total + len(batch)
