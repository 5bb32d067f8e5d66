"""Capacity, the waiting list and duplicates hold under concurrency: real threads on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from kangle.accounts.services import user_create
from kangle.activities import qr, services
from kangle.activities.models import Activity, Attendance, Signup, SignupStatus, WhistleCall, WhistleResponse
from kangle.core.errors import UserError

from .conftest import T0, make_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
CONNECTIONS = 20  # the server's connections are shared with other databases
BEFORE = T0 - dt.timedelta(days=1)


def _run_all(work, n):
    barrier = threading.Barrier(n)
    slots = threading.BoundedSemaphore(CONNECTIONS)
    outcomes = [None] * n

    def run(i):
        barrier.wait()
        with slots:
            try:
                outcomes[i] = work(i)
            except UserError as exc:
                outcomes[i] = exc.code
            finally:
                connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _racers(kit, n):
    users = [user_create(actor=None, username=f"racer{i}", password=None) for i in range(n)]
    members = [make_member(kit.p.tree.community_a, user=u, name=f"党员{i}") for i, u in enumerate(users)]
    return users, members


def test_forty_sign_up_for_ten_places_then_ten_cancel(kit):
    activity = kit.activity(capacity=10)
    users, _ = _racers(kit, 40)

    outcomes = _run_all(
        lambda i: (
            services.signup_create(
                actor=users[i], activity=Activity.objects.get(pk=activity.pk), now=BEFORE
            ).status
        ),
        40,
    )

    assert outcomes.count("confirmed") == 10 and outcomes.count("waitlisted") == 30
    activity.refresh_from_db()
    assert activity.confirmed_count == 10
    confirmed = list(Signup.objects.filter(activity=activity, status=SignupStatus.CONFIRMED))
    queue = list(
        Signup.objects.filter(activity=activity, status=SignupStatus.WAITLISTED).order_by("created_at", "id")
    )

    # Every confirmed member cancels at once: exactly the first ten of the queue move up, in order.
    _run_all(
        lambda i: (
            services.signup_cancel(
                actor=users[0].__class__.objects.get(pk=confirmed[i].member.user_id),
                signup=confirmed[i],
                now=BEFORE,
            ).status
        ),
        10,
    )

    activity.refresh_from_db()
    assert activity.confirmed_count == 10
    now_confirmed = set(
        Signup.objects.filter(activity=activity, status=SignupStatus.CONFIRMED).values_list("pk", flat=True)
    )
    assert now_confirmed == {s.pk for s in queue[:10]}
    assert Signup.objects.filter(activity=activity, status=SignupStatus.WAITLISTED).count() == 20


def test_same_member_scanning_twenty_times_at_once_checks_in_once(kit):
    activity = kit.activity()
    token = qr.make_token(activity, "in", now=T0)
    outcomes = _run_all(
        lambda i: (
            services.attendance_check_in(
                actor=kit.p.member, activity=Activity.objects.get(pk=activity.pk), token=token, now=T0
            ).pk
        ),
        20,
    )
    # One row; every repeat scan, racing or not, is answered with that row (an idempotent success).
    (attendance,) = Attendance.objects.filter(activity=activity)
    assert outcomes == [attendance.pk] * 20


def test_a_burst_of_scans_by_different_members_checks_each_in_once(kit):
    activity = kit.activity(capacity=30)
    users, members = _racers(kit, 30)
    token = qr.make_token(activity, "in", now=T0)

    def scan(i):
        attendance, created = services.attendance_scan(
            actor=users[i % 30], activity_id=activity.pk, token=token, now=T0
        )
        return (attendance.member_id, created)

    outcomes = _run_all(scan, 60)  # every member scans twice, all at once
    assert sorted(o for o in outcomes if o[1]) == sorted((m.pk, True) for m in members)
    assert sorted(o for o in outcomes if not o[1]) == sorted((m.pk, False) for m in members)
    assert Attendance.objects.filter(activity=activity).count() == 30
    activity.refresh_from_db()
    assert activity.confirmed_count == 0  # a check-in writes nothing on the activity row


def test_individual_and_collective_reports_racing_count_each_member_once(kit):
    call = kit.call(people=5)
    users, members = _racers(kit, 10)
    for member in members:
        member.party_org = kit.party_org
        member.save(update_fields=["party_org"])
    names = [m.name for m in members]

    def work(i):
        fresh_call = WhistleCall.objects.get(pk=call.pk)
        if i < 10:
            return services.response_create(actor=users[i], call=fresh_call, now=BEFORE).pk
        return len(
            services.response_collective(actor=kit.p.employer, call=fresh_call, names=names, now=BEFORE)
        )

    _run_all(work, 12)
    call.refresh_from_db()
    assert WhistleResponse.objects.filter(call=call).count() == 10
    assert call.responded_count == 10


def test_five_workers_sending_reminders_at_once_send_each_once(kit):
    from kangle.activities import jobs
    from kangle.notify.models import Notification

    activities = [kit.activity(title=f"活动{i}") for i in range(3)]
    users, _ = _racers(kit, 4)
    for activity in activities:
        for user in users:
            services.signup_create(actor=user, activity=activity, now=BEFORE)
    moment = T0 - dt.timedelta(hours=2)
    sent = _run_all(lambda i: jobs.send_activity_reminders(now=moment), 5)
    assert sum(sent) == 12
    assert Notification.objects.filter(title__startswith="活动提醒").count() == 12
