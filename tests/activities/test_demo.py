"""The demo data for 康健街道 produces the article's figures from real records."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum

from kangle import demo
from kangle.activities import selectors
from kangle.activities.models import Activity, Attendance, RecordStatus, ServiceRecord, Signup
from kangle.orgs.models import OrgUnit

pytestmark = pytest.mark.django_db


def test_demo_produces_the_articles_figures(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    demo.build(
        scale="street",
        seed=2024,
        steps=[
            "kangle.demo.orgs.build",
            "kangle.demo.accounts.build",
            "kangle.demo.members.build",
            "kangle.demo.points.build",
            "kangle.demo.posts.build",
            "kangle.demo.activities.build",
        ],
    )
    street = OrgUnit.objects.get(code=demo.STREET_CODE)
    zone = dt.timezone(dt.timedelta(hours=8))
    figures = selectors.figures(
        street, dt.datetime(2025, 1, 1, tzinfo=zone), dt.datetime(2026, 1, 1, tzinfo=zone)
    )
    assert figures["activities"] == 4
    assert figures["participants"] >= 150
    assert 1800 <= figures["beneficiaries"] <= 2200
    # The figures are the records: check-ins, the organisers' beneficiary counts, verified service.
    assert figures["participants"] == Attendance.objects.count()
    assert figures["beneficiaries"] == Activity.objects.aggregate(n=Sum("beneficiary_count"))["n"]
    verified = ServiceRecord.objects.filter(status=RecordStatus.VERIFIED).aggregate(m=Sum("minutes"))["m"]
    assert figures["hours"] == pytest.approx(verified / 60, abs=0.2)
    assert (
        Signup.objects.filter(status="waitlisted").exists()
        and Signup.objects.filter(promoted_at__isnull=False).exists()
    )
    assert figures["calls"] == 1 and figures["call_responses"] >= 1
