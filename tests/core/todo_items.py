"""Builders of waiting work of every kind (the to-do home's tests and its browser test share them)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from kangle.activities.models import RecordSource, ServiceRecord, WhistleCall
from kangle.cases.models import (
    CaseEvent,
    CaseMilestone,
    CaseStatus,
    EventKind,
    ExtensionRequest,
    MilestoneState,
)
from kangle.core.crypto import blind_index
from kangle.members.constants import Channel, Status
from kangle.members.models import Member
from kangle.posts.models import Claim, ClaimStatus, Post, PostStatus, ServiceAspect, ServiceCategory
from kangle.recognition.models import Honour, Nomination, NomineeKind

_phones = itertools.count(13600000000)


@pytest.fixture
def termite(db):
    from kangle.cases.defaults import seed
    from kangle.cases.models import CaseCategory, Milestone, SlaPolicy

    seed(SlaPolicy, Milestone, CaseCategory)
    return CaseCategory.objects.select_related("policy").get(code="termite")


def aspect() -> ServiceAspect:
    category, _ = ServiceCategory.objects.get_or_create(code="volunteer", defaults={"name": "参与志愿服务"})
    aspect, _ = ServiceAspect.objects.get_or_create(
        code="convenience", defaults={"category": category, "name": "便民服务"}
    )
    return aspect


def member(community, status=Status.APPROVED, *, at) -> Member:
    phone = str(next(_phones))
    return Member.objects.create(
        community=community,
        org=community,
        name="张三",
        phone=phone,
        phone_hash=blind_index(phone),
        political_status="full",
        channel=Channel.PHONE,
        status=status,
        registered_at=at,
    )


def cases(personas, termite, n: int, *, now):
    """``n`` cases in each desk state: new, returned, breached, due soon, with an extension asked."""
    from cases.helpers import report
    from kangle.cases import services

    for _ in range(n):
        report(personas, termite, now=now - dt.timedelta(hours=2))  # to accept and dispatch
        returned = report(personas, termite, now=now - dt.timedelta(hours=3))
        services.case_accept(actor=personas.secretary_a, case=returned, now=now - dt.timedelta(hours=3))
        CaseEvent.objects.create(case=returned, kind=EventKind.RETURNED, at=now - dt.timedelta(hours=1))
        asked = report(personas, termite, now=now - dt.timedelta(hours=5))
        type(asked).objects.filter(pk=asked.pk).update(status=CaseStatus.DISPATCHED)
        ExtensionRequest.objects.create(
            case_milestone=CaseMilestone.objects.filter(case=asked).first(),
            hours=24,
            reason="等药剂",
            requested_at=now - dt.timedelta(minutes=30),
        )
    # Of the cases with running clocks, every other one is breached, the others due within the warning window.
    cases = list(
        CaseMilestone.objects.filter(state=MilestoneState.RUNNING)
        .values_list("case_id", flat=True)
        .distinct()
        .order_by("case_id")
    )
    # As the sweep leaves them: a running clock's due time is its deadline, a breached one has none.
    CaseMilestone.objects.filter(case_id__in=cases[::2]).update(
        state=MilestoneState.BREACHED, deadline=now - dt.timedelta(hours=1), due_at=None, breached_at=now
    )
    CaseMilestone.objects.filter(case_id__in=cases[1::2]).update(
        deadline=now + dt.timedelta(hours=1),
        due_at=now + dt.timedelta(hours=1),
        warn_at=now - dt.timedelta(minutes=5),
    )


def kangle_items(personas, n: int, *, now):
    tree = personas.tree
    service_aspect = aspect()
    post = Post.objects.create(
        org=tree.community_a,
        aspect=service_aspect,
        title="楼道清洁",
        starts_on=now.date(),
        capacity=10,
        status=PostStatus.OPEN,
        needs_confirmation=True,
        created_at=now,
        updated_at=now,
    )
    for i in range(n):
        at = now - dt.timedelta(days=i + 1)
        member(tree.community_a, Status.PENDING, at=at)
        person = member(tree.community_a, at=at)
        Claim.objects.create(post=post, member=person, status=ClaimStatus.PENDING, claimed_at=at)
        ServiceRecord.objects.create(
            member=person,
            org=tree.community_a,
            aspect=service_aspect,
            source=RecordSource.SELF,
            title="陪老人就医",
            started_at=at,
            minutes=60,
            created_at=at,
        )
        WhistleCall.objects.create(
            org=tree.community_a,
            title="暴雨后清理积水",
            place="康乐1小区",
            starts_at=now + dt.timedelta(hours=2),
            ends_at=now + dt.timedelta(hours=4),
            people_needed=3,
            deadline=now + dt.timedelta(hours=1),
            created_at=at,
        )
        Nomination.objects.create(
            kind=NomineeKind.MEMBER,
            honour=Honour.EXCELLENT_MEMBER,
            member=person,
            org=tree.community_a,
            reason="长期服务",
            nominated_at=at,
        )
