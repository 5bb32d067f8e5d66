"""Concurrency on PostgreSQL with real threads: one award per record, caps exact, slot capacity exact."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from kangle.core.errors import UserError
from kangle.members.constants import Relation
from kangle.members.models import HouseholdMember
from kangle.points import services
from kangle.points.models import Booking, LedgerEntry, Slot

from .conftest import T0, make_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_threads(count: int, target) -> list:
    """Start ``count`` threads at once (a barrier), each calling target(i); collect results or errors."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = target(index)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_verification_awards_once(member_a, rule):
    def verify(_):
        return services.award_for_service(
            actor=None,
            member=member_a,
            source_type="service_record",
            source_id="42",
            difficulty=4,
            duration_minutes=240,
            occurred_at=T0,
            evidence={"title": "爱心益剪"},
            now=T0 + dt.timedelta(hours=1),
        ).pk

    results = run_threads(8, verify)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    assert LedgerEntry.objects.filter(member=member_a).count() == 1
    assert services.balance_of(member_a) == 4


def test_concurrent_awards_respect_the_daily_cap(member_a, rule):
    def verify(i):
        return services.award_for_service(
            actor=None,
            member=member_a,
            source_type="service_record",
            source_id=f"r{i}",
            difficulty=5,
            duration_minutes=600,
            occurred_at=T0,
            evidence={},
            now=T0 + dt.timedelta(hours=1),
        ).points

    results = run_threads(6, verify)
    assert sorted(results) == [0, 0, 0, 0, 5, 5]  # daily cap 10
    assert services.balance_of(member_a) == 10


def test_capacity_exact_under_concurrent_bookings(personas, rule):
    room = services.benefit_create(
        actor=personas.street_admin,
        org=personas.tree.street,
        kind="resource",
        name="康乐会客厅",
        resource_kind="room",
        cost_points=1,
        now=T0,
    )
    slot = services.slot_create(
        actor=personas.street_admin,
        benefit=room,
        starts_at=T0 + dt.timedelta(days=1),
        ends_at=T0 + dt.timedelta(days=1, hours=1),
        capacity=3,
        now=T0,
    )
    members = [make_member(personas.tree.community_a, name=f"成员{i}") for i in range(8)]
    for m in members:
        services.points_adjust(actor=personas.street_admin, member=m, points=1, reason="开户", now=T0)

    def book(i):
        return services.booking_create(actor=personas.street_admin, slot=slot, member=members[i], now=T0).pk

    results = run_threads(8, book)
    booked = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, UserError)]
    assert len(booked) == 3 and len(refused) == 5, results
    assert {e.code for e in refused} == {"slot_full"}
    assert Slot.objects.get(pk=slot.pk).booked == 3 == Booking.objects.filter(slot=slot).count()
    assert LedgerEntry.objects.filter(kind="spend").count() == 3


def test_one_member_cannot_overspend_concurrently(personas, member_a, household_a, rule):
    room = services.benefit_create(
        actor=personas.street_admin,
        org=personas.tree.street,
        kind="resource",
        name="体检设备",
        resource_kind="equipment",
        cost_points=3,
        now=T0,
    )
    family = [household_a] + [
        HouseholdMember.objects.create(member=member_a, name=f"家属{i}", relation=Relation.OTHER)
        for i in range(5)
    ]
    slot = services.slot_create(
        actor=personas.street_admin,
        benefit=room,
        starts_at=T0 + dt.timedelta(days=1),
        ends_at=T0 + dt.timedelta(days=1, hours=1),
        capacity=10,
        now=T0,
    )
    services.points_adjust(actor=personas.street_admin, member=member_a, points=7, reason="开户", now=T0)

    def book(i):
        return services.booking_create(
            actor=personas.member, slot=slot, member=member_a, household_member=family[i], now=T0
        ).pk

    results = run_threads(6, book)
    assert sum(isinstance(r, int) for r in results) == 2
    assert {r.code for r in results if isinstance(r, UserError)} == {"insufficient_points"}
    assert services.balance_of(member_a) == 1
