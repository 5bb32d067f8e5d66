"""The demo is alive on any date: its recent step fills every to-do line and the recent windows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kangle.accounts.models import User
from kangle.activities.models import Activity, WhistleCall
from kangle.cases.models import Case
from kangle.core import todo
from kangle.demo import build
from kangle.demo import cases as demo_cases
from kangle.orgs.models import OrgUnit
from kangle.orgs.selectors import subtree_q
from kangle.prevention.models import Warning

pytestmark = pytest.mark.django_db

STEPS = [
    "kangle.demo.orgs.build",
    "kangle.demo.accounts.build",
    "kangle.demo.members.build",
    "kangle.demo.points.build",
    "kangle.demo.cases.build",
    "kangle.demo.prevention.build",
    "kangle.demo.posts.build",
    "kangle.demo.recent.build",
]


@pytest.fixture
def alive(monkeypatch):
    monkeypatch.setitem(demo_cases.SEASON_SIZE, "street", 10)
    seen = []
    ctx = build(scale="street", seed=2024, steps=STEPS, progress=lambda *args: seen.append(args))
    return ctx, seen


def _lines(username: str) -> set[str]:
    user = User.objects.get(username=username)
    return {line.key for line in todo.lines_for(user, now=timezone.now())}


def test_every_to_do_line_has_work_today(alive):
    ctx, seen = alive
    # Progress: one call per step and a last one at the end.
    assert [done for done, _total, _label in seen] == list(range(len(STEPS) + 1))
    assert ctx.summary["recent_registrations_waiting"] >= 2
    assert {"members.pending", "posts.claims", "activities.records", "activities.calls"} <= _lines("kj_sec_a")
    assert {"cases.breached", "cases.due_soon", "cases.dispatch"} <= _lines("kj_admin")
    assert {"cases.returned", "cases.extensions", "cases.breached"} <= _lines("hn_desk")
    assert "recognition.nominations" in _lines("kj_admin") | _lines("kj_area")
    assert "activities.calls" in _lines("kj_grid")
    # Both streets have some of each half.
    assert {"members.pending", "activities.calls", "cases.dispatch"} <= _lines("hn_admin")


def test_recent_windows_show_data(alive, client):
    now = timezone.now()
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for code in ("XH-KJ", "XH-HN"):
        street = OrgUnit.objects.get(code=code)
        recent = Warning.objects.filter(subtree_q(street.path, "org__path"), occurred_at__gte=month_start)
        assert recent.exists(), code
    assert Warning.objects.filter(occurred_at__gte=month_start).count() >= 2
    assert Activity.objects.filter(starts_at__gt=now, starts_at__lt=now + dt.timedelta(days=10)).count() >= 2
    assert WhistleCall.objects.filter(created_at__gte=now - dt.timedelta(days=1)).count() >= 2
    assert Case.objects.filter(reported_at__gte=now - dt.timedelta(days=30)).count() >= 6
    requests = client.get("/open311/v2/requests.json").json()
    assert len(requests) >= 6
