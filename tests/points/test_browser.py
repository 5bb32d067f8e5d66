"""A member on a phone: sees their points with the rule per entry, books a room at 康乐会客厅 for their
child, and sees the booking."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from conftest import browser_login
from kangle.points import services
from personas import PASSWORD

from .conftest import award

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_member_sees_points_and_books_for_family(phone_page, personas, member_a, household_a, rule):
    award(
        member_a,
        "hair-1",
        difficulty=4,
        minutes=180,
        evidence={"title": "爱心益剪", "beneficiaries": 30},
        at=timezone.now() - dt.timedelta(days=2),
        now=timezone.now(),
    )
    room = services.benefit_create(
        actor=personas.secretary_a,
        org=personas.tree.community_a,
        kind="resource",
        name="康乐会客厅 活动室",
        resource_kind="room",
        min_points=1,
        cost_points=1,
    )
    start = timezone.now() + dt.timedelta(days=1)
    slot = services.slot_create(
        actor=personas.secretary_a,
        benefit=room,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        capacity=1,
    )

    browser_login(phone_page, "member", PASSWORD)
    phone_page.goto("/points/me/")
    assert phone_page.get_by_test_id("balance").inner_text() == "3"
    entry = phone_page.get_by_test_id("entry").first
    assert "爱心益剪" in entry.inner_text() and "规则 v1" in entry.inner_text()

    phone_page.get_by_test_id("benefits-link").click()
    phone_page.get_by_test_id(f"for-{slot.pk}").select_option(str(household_a.pk))
    phone_page.get_by_test_id(f"book-{slot.pk}").click()
    booking = phone_page.get_by_test_id("booking").first
    assert "王小华" in booking.inner_text() and booking.get_attribute("data-status") == "booked"
    assert phone_page.get_by_test_id("balance").inner_text() == "2"
