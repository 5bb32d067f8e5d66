"""The demo's loops: the article's care-home drill, a spraying round over old estates, a reworked case."""

import datetime as dt

import pytest

from kangle import demo
from kangle.cases.models import CaseMilestone, CaseStatus, MilestoneState
from kangle.drills.models import Assignment, Drill, FollowUp, Mobility
from kangle.orgs.models import OrgUnit
from kangle.prevention import analysis

pytestmark = pytest.mark.django_db


def test_demo_loops():
    ctx = demo.build(
        scale="street",
        seed=2024,
        steps=[
            "kangle.demo.orgs.build",
            "kangle.demo.accounts.build",
            "kangle.demo.cases.build",
            "kangle.demo.loops.build",
        ],
    )
    drill = Drill.objects.get()
    assert {o.department for o in drill.observers.all()} >= {"civil_affairs", "emergency", "fire"}
    assert drill.evacuation_seconds == 460
    mobilities = set(Assignment.objects.values_list("group__mobility", flat=True))
    assert {Mobility.STRETCHER, Mobility.WHEELCHAIR} <= mobilities
    assert FollowUp.objects.filter(done_at__isnull=True).count() == 3
    assert drill.contest_results.filter(event="一带一枪", rank=1).exists()
    hunan = OrgUnit.objects.get(code="XH-HN")
    june = analysis.analyse(hunan, analysis.Period(dt.date(2026, 6, 1), dt.date(2026, 6, 30)))
    assert june.as_dict()["sprayed_estates"] == ctx.summary["sprayed_estates"] == 12
    assert "对12个小区绿化带喷洒药水" in june.brief
    case = ctx.refs["case:reworked"]
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.rework_count == 1
    rework = CaseMilestone.objects.get(case=case, milestone__on_rework=True)
    assert rework.round == 1 and rework.state == MilestoneState.MET
