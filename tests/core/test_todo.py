"""The staff to-do home (待办): its lines, their links, their order, and a query count flat in the items."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kangle.activities.models import RecordSource, ServiceRecord, WhistleCall
from kangle.cases.models import (
    CaseEvent,
    CaseMilestone,
    CaseStatus,
    EventKind,
    ExtensionRequest,
    MilestoneState,
)
from kangle.core import todo
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


def _aspect() -> ServiceAspect:
    category, _ = ServiceCategory.objects.get_or_create(code="volunteer", defaults={"name": "参与志愿服务"})
    aspect, _ = ServiceAspect.objects.get_or_create(
        code="convenience", defaults={"category": category, "name": "便民服务"}
    )
    return aspect


def _member(community, status=Status.APPROVED, *, at) -> Member:
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


def _cases(personas, termite, n: int, *, now):
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
    CaseMilestone.objects.filter(case_id__in=cases[::2]).update(
        state=MilestoneState.BREACHED, deadline=now - dt.timedelta(hours=1), breached_at=now
    )
    CaseMilestone.objects.filter(case_id__in=cases[1::2]).update(
        deadline=now + dt.timedelta(hours=1), warn_at=now - dt.timedelta(minutes=5)
    )


def _kangle_items(personas, n: int, *, now):
    tree = personas.tree
    aspect = _aspect()
    post = Post.objects.create(
        org=tree.community_a,
        aspect=aspect,
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
        _member(tree.community_a, Status.PENDING, at=at)
        member = _member(tree.community_a, at=at)
        Claim.objects.create(post=post, member=member, status=ClaimStatus.PENDING, claimed_at=at)
        ServiceRecord.objects.create(
            member=member,
            org=tree.community_a,
            aspect=aspect,
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
            member=member,
            org=tree.community_a,
            reason="长期服务",
            nominated_at=at,
        )


def _home_queries(client, user) -> tuple[int, str]:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.django_db
def test_home_query_count_is_flat_in_the_items(client, personas, termite):
    now = timezone.now()
    _kangle_items(personas, 1, now=now)
    _cases(personas, termite, 1, now=now)
    one, page = _home_queries(client, personas.street_admin)
    for key in ("members.pending", "posts.claims", "activities.records", "activities.calls"):
        assert f'data-todo="{key}"' in page
    for key in ("cases.breached", "cases.due_soon", "cases.extensions", "cases.returned", "cases.dispatch"):
        assert f'data-todo="{key}"' in page
    _kangle_items(personas, 2, now=now)
    _cases(personas, termite, 2, now=now)
    three, page = _home_queries(client, personas.street_admin)
    assert three == one
    lines = {line.key: line.count for line in todo.lines_for(personas.street_admin, now=now)}
    assert lines["members.pending"] == 3
    assert lines["posts.claims"] == 3
    assert lines["activities.records"] == 3
    assert lines["activities.calls"] == 3
    assert lines["cases.extensions"] == 3
    assert lines["cases.returned"] == 3
    assert lines["cases.dispatch"] == 3


@pytest.mark.django_db
def test_lines_are_ordered_by_urgency_and_scoped(personas, termite):
    now = timezone.now()
    _kangle_items(personas, 1, now=now)
    _cases(personas, termite, 1, now=now)
    keys = [line.key for line in todo.lines_for(personas.secretary_a, now=now)]
    assert keys[0] == "cases.breached"
    assert keys.index("cases.due_soon") < keys.index("cases.dispatch")
    # Extensions are the area's and the street's decision; nominations pass the area first.
    assert "cases.extensions" not in keys
    assert "recognition.nominations" not in keys
    area_keys = [line.key for line in todo.lines_for(personas.area_admin, now=now)]
    assert "cases.extensions" in area_keys and "recognition.nominations" in area_keys
    # The outsider (community B) has nothing waiting from community A.
    assert todo.lines_for(personas.secretary_b, now=now) == []


@pytest.mark.django_db
def test_each_line_links_to_a_list_filtered_to_its_items(client, personas, termite):
    now = timezone.now()
    _kangle_items(personas, 1, now=now)
    _cases(personas, termite, 1, now=now)
    _member(personas.tree.community_a, Status.APPROVED, at=now)  # not waiting: must not show
    client.force_login(personas.street_admin)
    for line in todo.lines_for(personas.street_admin, now=now):
        response = client.get(line.url)
        assert response.status_code == 200, line.url
    members = client.get("/members/?status=pending").content.decode()
    assert members.count('data-member="') == 1
    records = client.get("/activities/records/?status=pending").content.decode()
    assert records.count('data-record="') == 1
    posts = client.get("/posts/?claims=pending").content.decode()
    assert posts.count('data-post="') == 1
    queue = client.get("/cases/desk/?stage=returned").context["page"]
    assert queue.paginator.count == 1
    queue = client.get("/cases/desk/?stage=extension").context["page"]
    assert queue.paginator.count == 1


@pytest.mark.django_db
def test_polling_fragment_and_outsiders(client, personas):
    client.force_login(personas.secretary_a)
    response = client.get("/accounts/todo/")
    assert response.status_code == 200
    assert b'hx-trigger="every 60s"' in response.content
    client.force_login(personas.member)
    assert client.get("/accounts/todo/").status_code == 404
    client.logout()
    assert client.get("/accounts/todo/").status_code == 302


def test_age_label_says_waiting_or_due():
    now = timezone.now()
    assert "3" in todo.age_label(now - dt.timedelta(days=3), now)
    assert todo.age_label(None, now) == ""
    assert todo.age_label(now + dt.timedelta(hours=2), now) != todo.age_label(
        now - dt.timedelta(hours=2), now
    )
