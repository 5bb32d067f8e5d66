"""The SLA engine: stored clocks, boundaries (minute before, at, after), pause, extension, the sweep."""

import datetime as dt
import threading
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.http import Http404

from cases.helpers import SH, T0, advance, report
from kangle.cases import clock, jobs, services, sweep_sql
from kangle.cases.models import (
    Case,
    CaseCategory,
    CaseEvent,
    CaseMilestone,
    Escalation,
    EventKind,
    ExtensionStatus,
    MilestoneState,
)
from kangle.core.errors import NotAllowed, UserError
from kangle.core.models import AuditEvent
from kangle.notify.jobs import deliver_outbox
from kangle.notify.models import Notification

MINUTE = dt.timedelta(minutes=1)
H = dt.timedelta(hours=1)


def clocks(case):
    return {
        row.milestone.code: row for row in CaseMilestone.objects.filter(case=case).select_related("milestone")
    }


# --- clocks -----------------------------------------------------------------------------------------------
def test_working_hours_skip_national_day_and_count_make_up_saturday():
    start = dt.datetime(2026, 9, 30, 16, 0, tzinfo=SH)
    kwargs = {"working": True, "work_start": dt.time(9), "work_end": dt.time(17)}
    # 1 h left on Wed 30 Sep, 1–7 Oct are holidays, Thu 8 Oct is the next workday.
    assert clock.add(start, 2 * 3600, **kwargs) == dt.datetime(2026, 10, 8, 10, 0, tzinfo=SH)
    # Fri 9 Oct 16:00 + 2 h: Saturday 10 Oct is a make-up workday (调休).
    assert clock.add(dt.datetime(2026, 10, 9, 16, 0, tzinfo=SH), 2 * 3600, **kwargs) == dt.datetime(
        2026, 10, 10, 10, 0, tzinfo=SH
    )
    # Outside working hours the clock starts at the next opening.
    assert clock.add(dt.datetime(2026, 10, 12, 20, 0, tzinfo=SH), 3600, **kwargs) == dt.datetime(
        2026, 10, 13, 10, 0, tzinfo=SH
    )
    assert clock.between(start, dt.datetime(2026, 10, 8, 10, 0, tzinfo=SH), **kwargs) == 2 * 3600


def test_natural_clock_is_plain_hours():
    kwargs = {"working": False, "work_start": dt.time(9), "work_end": dt.time(17)}
    assert clock.add(T0, 24 * 3600, **kwargs) == T0 + 24 * H
    assert clock.between(T0 + H, T0, **kwargs) == -3600


def test_working_hours_policy_due_time_is_stored(personas, termite):
    noise = CaseCategory.objects.get(code="noise")
    thursday = dt.datetime(2026, 9, 24, 9, 0, tzinfo=SH)
    case = report(personas, noise, now=thursday)
    # 16 working hours: Thu 24 Sep, then Fri 25 Sep is the Mid-Autumn Festival and 26–27 Sep a weekend,
    # so the second working day is Mon 28 Sep.
    assert clocks(case)["on_site"].due_at == dt.datetime(2026, 9, 28, 17, 0, tzinfo=SH)


# --- boundaries -------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_warning_breach_and_escalation_boundaries(personas, termite):
    case = report(personas, termite)
    warn = T0 + 18 * H  # 75% of 24 h

    assert jobs.sla_sweep(now=warn - MINUTE).as_dict() == {"warned": 0, "breached": 0, "escalated": 0}
    assert jobs.sla_sweep(now=warn).warned == 1
    assert clocks(case)["on_site"].warned_at == warn
    assert jobs.sla_sweep(now=warn + MINUTE).warned == 0

    due = T0 + 24 * H
    assert jobs.sla_sweep(now=due - MINUTE).breached == 0
    result = jobs.sla_sweep(now=due)
    assert (result.breached, result.escalated) == (1, 1)
    on_site = clocks(case)["on_site"]
    assert (
        on_site.state == MilestoneState.BREACHED
        and on_site.breached_at == due
        and on_site.escalation_level == 1
    )
    assert jobs.sla_sweep(now=due + MINUTE).as_dict() == {"warned": 0, "breached": 0, "escalated": 0}

    # Level 2 (street admin) 24 h after the due time; at 48 h the completion milestone breaches too.
    result = jobs.sla_sweep(now=T0 + 48 * H - MINUTE)
    assert (result.breached, result.escalated) == (0, 0)
    result = jobs.sla_sweep(now=T0 + 48 * H)
    assert result.breached == 1 and result.escalated == 2
    levels = sorted(Escalation.objects.values_list("case_milestone__milestone__code", "level", "role"))
    assert levels == [
        ("completed", 1, "area_admin"),
        ("on_site", 1, "area_admin"),
        ("on_site", 2, "street_admin"),
    ]
    assert jobs.sla_sweep(now=T0 + 100 * H).escalated == 1  # completion level 2, then the chain ends
    assert jobs.sla_sweep(now=T0 + 200 * H).as_dict() == {"warned": 0, "breached": 0, "escalated": 0}


@pytest.mark.django_db
def test_escalation_reaches_area_admin_then_street_admin(personas, termite):
    report(personas, termite)
    jobs.sla_sweep(now=T0 + 24 * H)
    # The notices are outbox rows written with the page; the outbox job puts them in the inboxes.
    assert not Notification.objects.filter(title__startswith="督办").exists()
    deliver_outbox(now=T0 + 24 * H)
    assert Notification.objects.filter(recipient=personas.area_admin, title__startswith="督办").count() == 1
    assert not Notification.objects.filter(recipient=personas.street_admin, title__startswith="督办").exists()
    jobs.sla_sweep(now=T0 + 48 * H)
    deliver_outbox(now=T0 + 48 * H)
    assert Notification.objects.filter(recipient=personas.street_admin, title__startswith="督办").count() == 1
    assert not Notification.objects.filter(recipient=personas.secretary_b, title__startswith="督办").exists()
    # A second delivery run finds nothing left to deliver.
    assert deliver_outbox(now=T0 + 49 * H) == 0


@pytest.mark.django_db
def test_milestone_met_at_the_deadline_is_on_time_a_minute_later_is_late(
    personas, termite, contractor_org, photo
):
    on_time = advance(personas, report(personas, termite, address="A 1"), photo, to="booked")
    late = advance(personas, report(personas, termite, address="A 2"), photo, to="booked")
    services.case_check_in(actor=personas.contractor, case=on_time, photos=[photo], now=T0 + 24 * H)
    services.case_check_in(actor=personas.contractor, case=late, photos=[photo], now=T0 + 24 * H + MINUTE)
    assert clocks(on_time)["on_site"].state == MilestoneState.MET
    assert clocks(late)["on_site"].state == MilestoneState.MET_LATE
    assert jobs.sla_sweep(now=T0 + 24 * H + 2 * MINUTE).breached == 0


@pytest.mark.django_db
def test_met_milestone_is_never_escalated(personas, termite, contractor_org, photo):
    case = advance(personas, report(personas, termite), photo, to="work_done")
    assert jobs.sla_sweep(now=T0 + 300 * H).as_dict() == {"warned": 0, "breached": 0, "escalated": 0}
    assert CaseMilestone.objects.filter(case=case, met_at__isnull=False).count() == 2


# --- pause and extension ----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_pause_moves_due_times_with_an_audit_trail(personas, termite):
    case = report(personas, termite)
    services.case_pause(actor=personas.secretary_a, case=case, reason="居民出差，下周回来", now=T0 + 2 * H)
    assert jobs.sla_sweep(now=T0 + 30 * H).as_dict() == {"warned": 0, "breached": 0, "escalated": 0}
    services.case_resume(actor=personas.secretary_a, case=case, now=T0 + 10 * H)
    row = clocks(case)["on_site"]
    assert row.due_at == T0 + 32 * H and row.state == MilestoneState.RUNNING
    assert row.warn_at == T0 + 26 * H
    audit = AuditEvent.objects.get(verb="case.resume")
    assert audit.details["paused_seconds"] == 8 * 3600
    assert CaseEvent.objects.filter(case=case, kind__in=[EventKind.PAUSED, EventKind.RESUMED]).count() == 2
    assert jobs.sla_sweep(now=T0 + 32 * H - MINUTE).breached == 0
    assert jobs.sla_sweep(now=T0 + 32 * H).breached == 1


@pytest.mark.django_db
def test_pause_twice_and_resume_unpaused_are_refused(personas, termite):
    case = report(personas, termite)
    with pytest.raises(UserError) as error:
        services.case_resume(actor=personas.secretary_a, case=case)
    assert error.value.code == "not_paused"
    services.case_pause(actor=personas.secretary_a, case=case, reason="等待居民")
    with pytest.raises(UserError) as error:
        services.case_pause(actor=personas.secretary_a, case=case, reason="等待居民")
    assert error.value.code == "already_paused"


@pytest.mark.django_db
def test_extension_requested_by_contractor_approved_by_area_admin(personas, termite, contractor_org, photo):
    case = advance(personas, report(personas, termite), photo, to="assigned")
    request = services.extension_request(
        actor=personas.contractor,
        case=case,
        milestone_code="completed",
        hours=12,
        reason="需等待药剂起效",
        now=T0 + H,
    )
    with pytest.raises(NotAllowed):
        services.extension_decide(actor=personas.secretary_a, request=request, approve=True)
    with pytest.raises(Http404):
        services.extension_decide(actor=personas.secretary_b, request=request, approve=True)
    services.extension_decide(actor=personas.area_admin, request=request, approve=True, now=T0 + 2 * H)
    row = clocks(case)["completed"]
    assert row.due_at == T0 + 60 * H and row.extended_hours == 12
    assert (
        dt.datetime.fromisoformat(AuditEvent.objects.get(verb="case.extension_decide").details["to"])
        == T0 + 60 * H
    )
    with pytest.raises(UserError) as error:
        services.extension_decide(actor=personas.area_admin, request=request, approve=False)
    assert error.value.code == "already_decided"


@pytest.mark.django_db
def test_extension_bad_input(personas, termite, contractor_org, other_contractor, photo):
    case = advance(personas, report(personas, termite), photo, to="assigned")
    with pytest.raises(UserError) as error:
        services.extension_request(
            actor=personas.contractor, case=case, milestone_code="completed", hours=0, reason="x"
        )
    assert error.value.field == "hours"
    with pytest.raises(UserError) as error:
        services.extension_request(
            actor=personas.contractor, case=case, milestone_code="nope", hours=2, reason="x"
        )
    assert error.value.field == "milestone"
    with pytest.raises(Http404):
        services.extension_request(
            actor=other_contractor[1], case=case, milestone_code="completed", hours=2, reason="x"
        )
    request = services.extension_request(
        actor=personas.contractor, case=case, milestone_code="completed", hours=2, reason="x"
    )
    services.extension_decide(actor=personas.area_admin, request=request, approve=False)
    request.refresh_from_db()
    assert request.status == ExtensionStatus.REJECTED
    assert clocks(case)["completed"].due_at == T0 + 48 * H


# --- concurrency and restarts -----------------------------------------------------------------------------
def _breached_cases(personas, termite, count):
    for index in range(count):
        report(personas, termite, address=f"康健路 {index} 号")
    return T0 + 48 * H


def _expected_escalations(count):
    # at 48 h: on_site levels 1 and 2, completed level 1 — three per case.
    return 3 * count


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_escalate_each_breach_exactly_once(personas, termite):
    count = 40
    moment = _breached_cases(personas, termite, count)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker(name):
        try:
            barrier.wait()
            results.append(jobs.sla_sweep(now=moment, worker_id=name, batch=7))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(r.breached for r in results) == 2 * count
    assert sum(r.escalated for r in results) == _expected_escalations(count)
    assert sum(r.warned for r in results) == 2 * count
    assert Escalation.objects.count() == _expected_escalations(count)
    assert CaseEvent.objects.filter(kind=EventKind.ESCALATED).count() == _expected_escalations(count)
    assert CaseEvent.objects.filter(kind=EventKind.BREACHED).count() == 2 * count
    # Nothing is left to do.
    assert jobs.sla_sweep(now=moment).as_dict() == {"warned": 0, "breached": 0, "escalated": 0}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_due_clock_held_by_another_transaction_is_swept_once_it_is_released(personas, termite, monkeypatch):
    """A page skips locked rows; another scan's page or a person's change can hold a clock for a moment.
    The sweep must not take the empty page that follows for "nothing due" and leave the clock behind."""
    count = 4
    moment = _breached_cases(personas, termite, count)
    held = CaseMilestone.objects.filter(due_at__lte=moment).order_by("due_at").values_list("pk", flat=True)[0]
    locked, release = threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic():
                # The clock's row alone, as the sweep's own claims lock it.
                list(CaseMilestone.objects.select_for_update(of=("self",)).filter(pk=held))
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert locked.wait(10)
    waits = []

    def wait_for_holder(seconds):
        # The holder commits the first time the sweep waits, and not before: a sweep that never waits
        # finds the clock held to its end.
        waits.append(seconds)
        release.set()
        thread.join()

    monkeypatch.setattr(jobs, "time", SimpleNamespace(sleep=wait_for_holder))
    try:
        result = jobs.sla_sweep(now=moment, worker_id="w", batch=3)
    finally:
        release.set()
        thread.join()
    assert waits
    assert result.as_dict() == {"warned": 2 * count, "breached": 2 * count, "escalated": 3 * count}
    assert CaseMilestone.objects.get(pk=held).state == MilestoneState.BREACHED


@pytest.mark.django_db(transaction=True)
def test_sweep_killed_midway_then_restarted_misses_nothing_and_doubles_nothing(
    personas, termite, monkeypatch
):
    count = 12
    moment = _breached_cases(personas, termite, count)
    real = sweep_sql.escalate
    calls = {"n": 0}

    def dying_escalate(plan, moment, **kwargs):
        moved = real(plan, moment, **kwargs)
        calls["n"] += 1
        if calls["n"] == 2:
            # The process dies inside the second page's transaction, its rows written but not committed.
            raise SystemExit("worker killed")
        return moved

    monkeypatch.setattr(sweep_sql, "escalate", dying_escalate)
    with pytest.raises(SystemExit):
        jobs.sla_sweep(now=moment, worker_id="first", batch=3)
    # The first page of escalations committed; the second rolled back with its compare-and-set updates.
    assert Escalation.objects.count() == 3
    assert CaseMilestone.objects.filter(escalation_level__gt=0).count() == 3
    monkeypatch.setattr(sweep_sql, "escalate", real)
    jobs.sla_sweep(now=moment, worker_id="restarted", batch=3)
    assert Escalation.objects.count() == _expected_escalations(count)
    assert CaseEvent.objects.filter(kind=EventKind.ESCALATED).count() == _expected_escalations(count)
    assert CaseEvent.objects.filter(kind=EventKind.BREACHED).count() == 2 * count
    per_level = set(Escalation.objects.values_list("case_milestone_id", "level"))
    assert len(per_level) == _expected_escalations(count)
    assert set(Escalation.objects.values_list("worker_id", flat=True)) == {"first", "restarted"}
    assert set(Case.objects.values_list("status", flat=True)) == {"reported"}


@pytest.mark.django_db
def test_the_worker_runs_the_sweep_from_settings(personas, termite, settings):
    from kangle.core.worker import KangleWorker

    assert ("kangle.cases.jobs.sla_sweep", 30) in settings.KANGLE_PERIODIC_JOBS
    case = report(personas, termite, now=dt.datetime.now(dt.UTC) - 50 * H)
    worker = KangleWorker(jobs=[("kangle.cases.jobs.sla_sweep", 30)], worker_id="test-worker")
    worker.run_due_jobs()
    assert Escalation.objects.filter(case_milestone__case=case, worker_id="test-worker").count() == 3
    worker.run_due_jobs(clock=10**9)  # a later tick: nothing new to do
    assert Escalation.objects.filter(case_milestone__case=case).count() == 3


@pytest.mark.django_db
def test_worker_tick_on_the_real_clock_at_the_deadline(personas, termite):
    """The same boundary through the worker, which reads the real clock (moved with time-machine)."""
    import time_machine

    from kangle.core.worker import KangleWorker

    case = report(personas, termite)
    worker = KangleWorker(jobs=[("kangle.cases.jobs.sla_sweep", 0)], worker_id="tm")
    for moment, breached in (
        (T0 + 24 * H - MINUTE, False),
        (T0 + 24 * H, True),
        (T0 + 24 * H + MINUTE, True),
    ):
        with time_machine.travel(moment, tick=False):
            worker.run_due_jobs(clock=moment.timestamp())
        assert clocks(case)["on_site"].state == (
            MilestoneState.BREACHED if breached else MilestoneState.RUNNING
        )
    assert Escalation.objects.filter(case_milestone__case=case).count() == 1


KILLED_WORKER = """
import sys, time
import django
django.setup()
import datetime as dt
from kangle.cases import jobs

real = jobs._Sweep.escalate_page


def slow(self):
    done = real(self)
    print("page", flush=True)
    time.sleep(30)  # still inside this page's transaction when the process is killed
    return done


jobs._Sweep.escalate_page = slow
jobs.sla_sweep(now=dt.datetime.fromisoformat(sys.argv[1]), worker_id="doomed", batch=5)
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_worker_process_killed_with_sigkill_then_restarted(personas, termite, settings):
    """A real process, killed with SIGKILL inside a page's transaction: nothing doubled, nothing lost."""
    import os
    import signal
    import subprocess
    import sys

    count = 10
    moment = _breached_cases(personas, termite, count)
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", KILLED_WORKER, moment.isoformat()],
        env=_subprocess_env(settings),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert (
            process.stdout.readline().strip() == "page"
        )  # its first page of escalations is done, uncommitted
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert Escalation.objects.count() == 0  # the page died with its transaction
    assert CaseEvent.objects.filter(kind=EventKind.BREACHED).count() == 2 * count  # earlier pages committed
    jobs.sla_sweep(now=moment, worker_id="restarted")
    assert Escalation.objects.count() == _expected_escalations(count)
    assert set(Escalation.objects.values_list("worker_id", flat=True)) == {"restarted"}
    assert len(set(Escalation.objects.values_list("case_milestone_id", "level"))) == _expected_escalations(
        count
    )


def _subprocess_env(settings) -> dict:
    import os

    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kangle.settings",
        "KANGLE_DATABASE_URL": f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "KANGLE_LOG_LEVEL": "WARNING",
        # The keys this test process actually runs with (the encrypted fields must read the same).
        "KANGLE_FIELD_KEY": ",".join(settings.KANGLE_FIELD_KEYS),
        "KANGLE_SECRET_KEY": settings.SECRET_KEY,
    }


# A worker tick: the sweep, then notice delivery. The process stops (and is killed) the moment it first
# writes an inbox notice — after the sweep's pages have committed, before the notices reach an inbox.
KILLED_BEFORE_DELIVERY = """
import sys, time
import django
django.setup()
import datetime as dt
from kangle.cases import jobs
from kangle.notify import jobs as notify_jobs
from kangle.notify.models import Notification


def stop_here(*args, **kwargs):
    print("delivering", flush=True)
    time.sleep(30)


Notification.objects.create = stop_here
Notification.objects.bulk_create = stop_here
moment = dt.datetime.fromisoformat(sys.argv[1])
jobs.sla_sweep(now=moment, worker_id="doomed", batch=5)
notify_jobs.deliver_outbox(now=moment)
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_worker_killed_between_page_commit_and_delivery_loses_no_notice(personas, termite, settings):
    """Every warning and escalation notice of a sweep whose worker was killed after its pages committed
    reaches its inbox exactly once, delivered by the next worker's outbox job."""
    import os
    import signal
    import subprocess
    import sys

    from kangle.notify.models import OutboxMessage

    count = 6
    moment = _breached_cases(personas, termite, count)
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", KILLED_BEFORE_DELIVERY, moment.isoformat()],
        env=_subprocess_env(settings),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "delivering"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    sweep_notices = Notification.objects.filter(title__regex=r"^(催办|督办)")
    assert not sweep_notices.exists()  # no sweep notice reached an inbox before the kill

    # The next worker: its sweep does whatever is left, its outbox job delivers every notice once.
    jobs.sla_sweep(now=moment, worker_id="next")
    assert Escalation.objects.count() == _expected_escalations(count)
    deliver_outbox(now=moment)
    deliver_outbox(now=moment + MINUTE)
    escalation_notices = Notification.objects.filter(title__startswith="督办")
    warning_notices = Notification.objects.filter(title__startswith="催办")
    # One area admin and one street admin cover the community: one notice per escalation, one per warning.
    assert escalation_notices.count() == _expected_escalations(count)
    assert warning_notices.count() == 2 * count
    assert set(escalation_notices.values_list("recipient", flat=True)) == {
        personas.area_admin.pk,
        personas.street_admin.pk,
    }
    seen = list(sweep_notices.values_list("recipient", "title"))
    assert len(seen) == len(set(seen))  # nothing twice
    assert not OutboxMessage.objects.filter(channel="inbox", status="pending").exists()
