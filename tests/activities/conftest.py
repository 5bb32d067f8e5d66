"""Fixtures of the activities tests.

Member files for the personas, an employer Party organisation, builders."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import pytest
from django.utils import timezone

from kangle.accounts.models import User
from kangle.activities import services
from kangle.activities.models import Activity, WhistleCall
from kangle.core.crypto import blind_index
from kangle.members.constants import Channel, Status
from kangle.members.models import Employer, EmployerPartyOrg, Member
from kangle.points import services as points_services
from kangle.posts.models import ServiceAspect

_phones = itertools.count(13700000000)
T0 = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_member(
    community, *, user=None, org=None, name="张三", party_org=None, status=Status.APPROVED
) -> Member:
    phone = str(next(_phones))
    return Member.objects.create(
        community=community,
        org=org or community,
        microgrid=org if org is not None and org.kind == "microgrid" else None,
        user=user,
        name=name,
        phone=phone,
        phone_hash=blind_index(phone),
        political_status="full",
        channel=Channel.PHONE,
        status=status,
        registered_at=timezone.now(),
        party_org=party_org,
    )


@dataclass
class Kit:
    p: object
    member: Member  # the persona "member" (community A, micro-grid A)
    party_org: EmployerPartyOrg  # account: the persona "employer"
    aspect: ServiceAspect

    def activity(self, *, capacity=10, org=None, starts_at=T0, minutes=120, actor=None, **extra) -> Activity:
        return services.activity_create(
            actor=actor or self.p.secretary_a,
            org=org or self.p.tree.community_a,
            aspect=self.aspect,
            title=extra.pop("title", "爱心益剪"),
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(minutes=minutes),
            capacity=capacity,
            now=starts_at - dt.timedelta(days=3),
            **extra,
        )

    def call(self, *, people=3, org=None, actor=None, grids=(), skills=(), now=None) -> WhistleCall:
        return services.call_create(
            actor=actor or self.p.secretary_a,
            org=org or self.p.tree.community_a,
            title="暴雨后清理积水",
            place="康乐1小区",
            starts_at=T0,
            ends_at=T0 + dt.timedelta(hours=3),
            people_needed=people,
            deadline=T0,
            grids=grids,
            skills=skills,
            now=now or T0 - dt.timedelta(days=1),
        )

    def member_with_user(self, name: str, *, party_org=None, community=None, org=None) -> tuple[Member, User]:
        from kangle.core.roles import Role
        from personas import make_user

        community = community or self.p.tree.community_a
        user = make_user(f"u{next(_phones)}", Role.MEMBER, community)
        return make_member(community, user=user, name=name, party_org=party_org, org=org), user


def _aspect(code: str, name: str) -> ServiceAspect:
    """The seeded catalogue row (transactional tests flush the seed, so recreate it when missing)."""
    from kangle.posts.models import ServiceCategory

    found = ServiceAspect.objects.filter(code=code).first()
    if found is not None:
        return found
    category, _ = ServiceCategory.objects.get_or_create(code="volunteer", defaults={"name": "参与志愿服务"})
    return ServiceAspect.objects.create(category=category, code=code, name=name)


@pytest.fixture
def kit(personas) -> Kit:
    # The street's points rule: verified records earn points through the real ledger.
    points_services.rule_create(
        actor=personas.street_admin,
        street=personas.tree.street,
        effective_from=dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        now=dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    )
    employer = Employer.objects.create(name="示例美发公司")
    party_org = EmployerPartyOrg.objects.create(
        employer=employer, name="示例美发公司党支部", account=personas.employer
    )
    member = make_member(
        personas.tree.community_a,
        user=personas.member,
        org=personas.tree.microgrid_a,
        name="李明",
        party_org=party_org,
    )
    return Kit(p=personas, member=member, party_org=party_org, aspect=_aspect("convenience", "便民服务"))
