"""The demo step: a rule, awards through award_for_service, benefits, a letter, nominations, the story."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from kangle import demo
from kangle.points.models import Benefit, LedgerEntry, PointsRule
from kangle.recognition.models import CommendationLetter, Nomination, Story

pytestmark = pytest.mark.django_db


def test_demo_builds_points_and_recognition(settings, capsys):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    ctx = demo.build(
        scale="street",
        seed=7,
        steps=[
            "kangle.demo.orgs.build",
            "kangle.demo.accounts.build",
            "kangle.demo.members.build",
            "kangle.demo.points.build",
        ],
    )
    assert PointsRule.objects.get().version == 1
    assert LedgerEntry.objects.filter(source_type="demo").count() > 300
    salon = ctx.refs["member:salon_manager"]
    assert ctx.summary["salon_beneficiaries"] >= 2000
    letter = CommendationLetter.objects.get(member=salon)
    assert letter.number and letter.pdf and letter.dispatches.filter(channel="email").exists()
    assert Nomination.objects.get(member=salon).status == "honoured"
    assert Story.objects.get(status="published").members.get() == salon
    assert Benefit.objects.filter(venue=ctx.refs["venue:living_room"]).count() == 2
    try:
        call_command("ledger_check")
    except SystemExit as stop:  # pragma: no cover - a failure is what the test reports
        pytest.fail(f"ledger-check failed: {stop.code}\n{capsys.readouterr().out}")
