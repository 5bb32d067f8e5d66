"""Fixtures for points and recognition: member files, a rule, the personas' employer Party organisation."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from kangle.core.crypto import blind_index
from kangle.members.constants import Channel, PoliticalStatus, Relation, Status
from kangle.members.models import Employer, EmployerPartyOrg, HouseholdMember, Member
from kangle.points import services

_phones = itertools.count(13700000000)

T0 = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 0))  # a Monday, 09:00 Asia/Shanghai


def make_member(unit, *, name="李明", user=None, party_org=None, microgrid=None, community=None) -> Member:
    community = community or unit
    phone = str(next(_phones))
    return Member.objects.create(
        community=community,
        org=unit,
        microgrid=microgrid,
        user=user,
        name=name,
        phone=phone,
        phone_hash=blind_index(phone),
        political_status=PoliticalStatus.FULL_MEMBER,
        channel=Channel.PHONE,
        status=Status.APPROVED,
        registered_at=T0 - dt.timedelta(days=400),
        party_org=party_org,
        employer=party_org.employer if party_org else None,
    )


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Personas are made with the production hasher (argon2, about a second each on a busy machine); these
    tests are not about passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def party_org(personas):
    employer = Employer.objects.create(name="美发沙龙有限公司", email="hr@example.com")
    return EmployerPartyOrg.objects.create(
        employer=employer, name="美发沙龙有限公司党支部", email="party@example.com", account=personas.employer
    )


@pytest.fixture
def member_a(personas, party_org):
    """The persona ``member``'s file in community A, in the grid's micro-grid."""
    tree = personas.tree
    return make_member(
        tree.microgrid_a,
        community=tree.community_a,
        microgrid=tree.microgrid_a,
        user=personas.member,
        party_org=party_org,
        name="王建华",
    )


@pytest.fixture
def member_b(personas):
    return make_member(personas.tree.community_b, name="赵丽")


@pytest.fixture
def household_a(member_a):
    return HouseholdMember.objects.create(member=member_a, name="王小华", relation=Relation.CHILD)


@pytest.fixture
def rule(personas):
    return services.rule_create(
        actor=personas.street_admin,
        street=personas.tree.street,
        effective_from=T0 - dt.timedelta(days=90),
        now=T0 - dt.timedelta(days=90),
    )


def award(member, source_id, *, difficulty=3, minutes=120, at=None, actor=None, evidence=None, now=None):
    at = at or T0
    return services.award_for_service(
        actor=actor,
        member=member,
        source_type="test",
        source_id=str(source_id),
        difficulty=difficulty,
        duration_minutes=minutes,
        occurred_at=at,
        evidence=evidence or {"title": "爱心益剪", "beneficiaries": 10},
        now=now or at + dt.timedelta(hours=3),
    )
