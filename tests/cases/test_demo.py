"""The 民情快办 demo step: the article's 武康大楼 case and a season with breaches and escalations."""

import datetime as dt

import pytest

from kangle.cases.models import (
    Case,
    CaseEvent,
    CaseMilestone,
    CaseStatus,
    Escalation,
    EventKind,
    MilestoneState,
)
from kangle.core.timeutil import local
from kangle.demo import build
from kangle.demo import cases as demo_cases

pytestmark = pytest.mark.django_db


def test_demo_landmark_case_and_season(monkeypatch):
    monkeypatch.setitem(demo_cases.SEASON_SIZE, "street", 40)
    ctx = build(
        scale="street",
        seed=2024,
        steps=["kangle.demo.orgs.build", "kangle.demo.accounts.build", "kangle.demo.cases.build"],
    )
    landmark = Case.objects.get(pk=ctx.refs["case:landmark"].pk)
    assert landmark.status == CaseStatus.CLOSED and landmark.org.code == "HN-C08"
    assert landmark.closed_at - landmark.reported_at < dt.timedelta(hours=48)
    on_site = CaseEvent.objects.get(case=landmark, kind=EventKind.CHECKED_IN).at
    assert local(on_site).date() == local(landmark.reported_at).date()  # visited the same day
    assert set(landmark.milestones.values_list("state", flat=True)) == {MilestoneState.MET}
    assert landmark.feedback.get().satisfied
    assert Case.objects.count() == 41
    assert CaseMilestone.objects.filter(state__in=[MilestoneState.BREACHED, MilestoneState.MET_LATE]).exists()
    assert Escalation.objects.filter(role="area_admin").exists()
    assert Escalation.objects.filter(role="street_admin").exists()
