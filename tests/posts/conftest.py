"""Builders for posts tests: members with skills, times and wishes, and published posts."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from kangle.core.crypto import blind_index
from kangle.members.constants import Channel, Status
from kangle.members.models import Member, MemberWillingness, Skill
from kangle.posts import services
from kangle.posts.models import ServiceAspect
from kangle.posts.schedule import mask_from_codes

_phones = itertools.count(13700000000)


def make_member(
    community,
    *,
    user=None,
    microgrid=None,
    estate=None,
    skills=(),
    slots=(),
    aspects=(),
    status=Status.APPROVED,
    name="张三",
) -> Member:
    phone = str(next(_phones))
    member = Member.objects.create(
        community=community,
        microgrid=microgrid,
        estate=estate,
        org=microgrid or community,
        user=user,
        name=name,
        phone=phone,
        phone_hash=blind_index(phone),
        political_status="full",
        channel=Channel.PHONE,
        status=status,
        registered_at=timezone.now(),
        availability=mask_from_codes(slots),
    )
    member.skills.set(Skill.objects.filter(code__in=skills))
    MemberWillingness.objects.bulk_create(
        [MemberWillingness(member=member, aspect=a) for a in ServiceAspect.objects.filter(code__in=aspects)]
    )
    return member


def post_raw(org, **overrides) -> dict:
    raw = {
        "title": "爱心益剪",
        "aspect": "convenience",
        "org": org.code,
        "description": "每周六上午义务理发",
        "required_skills": [],
        "preferred_skills": [],
        "weekly_slots": ["sat_am"],
        "starts_on": dt.date(2026, 1, 1).isoformat(),
        "ends_on": "",
        "sessions": [],
        "capacity": 3,
        "difficulty": 2,
        "needs_confirmation": False,
    }
    raw.update(overrides)
    return raw


def make_post(actor, org, *, publish=True, **overrides):
    return services.post_create(actor=actor, publish=publish, **post_raw(org, **overrides))


@pytest.fixture
def kj_member(personas):
    """The persona ``member``, approved in community A, micro-grid A: haircut, Saturday morning."""
    t = personas.tree
    return make_member(
        t.community_a,
        user=personas.member,
        microgrid=t.microgrid_a,
        estate=t.estate_a,
        skills=["haircut"],
        slots=["sat_am", "sun_pm"],
        aspects=["convenience"],
        name="李党员",
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Personas are created per test; a fast hasher keeps these tests about the posts, not about argon2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _catalogue(request):
    """The catalogue and the skills come from data migrations; a transactional test that ran earlier in the
    session flushed them, so put them back (the migrations' own seed functions)."""
    if not request.node.get_closest_marker("django_db"):
        return
    import importlib

    from django.apps import apps as django_apps

    from kangle.posts.models import ServiceAspect

    if not Skill.objects.exists():
        importlib.import_module("kangle.members.migrations.0002_seed_skills").seed(django_apps, None)
    if not ServiceAspect.objects.exists():
        importlib.import_module("kangle.posts.migrations.0002_seed_catalogue").seed(django_apps, None)
