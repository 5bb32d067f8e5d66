"""`kangle worker`: queued django.tasks and periodic jobs, with a heartbeat; a failing job stops nothing."""

from __future__ import annotations

import signal
import threading

import pytest
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from core import worker_jobs
from kangle.core.models import AuditEvent, WorkerHeartbeat
from kangle.core.worker import KangleWorker

# run_once() and run() close and reopen connections as a long-running worker must: they need real
# transactions. Tests calling run_due_jobs() alone run in the usual rolled-back transaction.
needs_commits = pytest.mark.django_db(transaction=True)

COUNT = "core.worker_jobs.count_calls"
FAIL = "core.worker_jobs.always_fails"
HEARTBEAT = "kangle.core.jobs.record_heartbeat"


@pytest.fixture(autouse=True)
def _calls():
    worker_jobs.calls.clear()
    yield worker_jobs.calls


@pytest.fixture
def keep_signal_handlers():
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@needs_commits
def test_run_once_runs_due_jobs_and_records_a_heartbeat():
    worker = KangleWorker(jobs=[(COUNT, 5), (HEARTBEAT, 15)], worker_id="test-worker-1")
    worker.run_once()
    assert worker_jobs.calls == ["count"]
    beat = WorkerHeartbeat.objects.get(worker_id="test-worker-1")
    assert beat.jobs_run == 1  # the count job ran before the heartbeat
    first_seen = beat.last_seen
    # Not due again straight away...
    worker.run_once()
    assert worker_jobs.calls == ["count"]
    # ...but after its period (the clock is passed in, as the loop does with time.monotonic()).
    start = worker.jobs[0].last_run
    worker.run_due_jobs(clock=start + 5.1)
    assert worker_jobs.calls == ["count", "count"]
    worker.run_due_jobs(clock=start + 15.1)
    beat.refresh_from_db()
    assert beat.last_seen >= first_seen
    assert beat.jobs_run == 4
    assert WorkerHeartbeat.objects.count() == 1


@pytest.mark.django_db
def test_a_failing_job_does_not_stop_the_others(caplog):
    worker = KangleWorker(jobs=[(FAIL, 1), (COUNT, 1), (HEARTBEAT, 1)], worker_id="test-worker-2")
    worker.run_due_jobs()
    worker.run_due_jobs(clock=worker.jobs[0].last_run + 1.5)
    assert worker_jobs.calls == ["fail", "count", "fail", "count"]
    assert WorkerHeartbeat.objects.filter(worker_id="test-worker-2").exists()
    assert "periodic job core.worker_jobs.always_fails failed" in caplog.text
    assert worker.jobs_run == 4  # the failures are not counted


@needs_commits
def test_the_worker_runs_an_enqueued_task():
    result = worker_jobs.write_audit_event.enqueue("test.task", note="ran by the worker")
    assert result.status == TaskResultStatus.READY
    assert not AuditEvent.objects.filter(verb="test.task").exists()
    KangleWorker(jobs=[], worker_id="test-worker-3").run_once()
    event = AuditEvent.objects.get(verb="test.task")
    assert event.details == {"note": "ran by the worker"}
    row = DBTaskResult.objects.get(id=result.id)
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert row.return_value == "RAN BY THE WORKER"
    # Run once more: a finished task is not run again.
    KangleWorker(jobs=[], worker_id="test-worker-3").run_once()
    assert AuditEvent.objects.filter(verb="test.task").count() == 1


@pytest.mark.django_db
def test_the_default_jobs_come_from_settings(settings):
    worker = KangleWorker()
    assert [(job.path, job.every) for job in worker.jobs] == list(settings.KANGLE_PERIODIC_JOBS)
    assert all(callable(job.function) for job in worker.jobs)
    worker.run_due_jobs()
    assert WorkerHeartbeat.objects.filter(worker_id=worker.worker_id).exists()


def test_an_unknown_job_path_fails_at_start():
    with pytest.raises(ImportError):
        KangleWorker(jobs=[("core.worker_jobs.no_such_job", 1)])


@needs_commits
def test_run_loops_until_stopped(keep_signal_handlers):
    worker = KangleWorker(interval=0, jobs=[(COUNT, 0.0001)], worker_id="test-worker-4")
    worker.run(max_loops=3)
    assert len(worker_jobs.calls) >= 1
    # Ctrl-C: the first stops after the current step, a second one leaves at once.
    worker.stop()
    assert worker.running is False
    worker.run_due_jobs()
    calls = len(worker_jobs.calls)
    worker.run_due_jobs(clock=10**9)
    assert len(worker_jobs.calls) == calls  # a stopped worker starts no job
    with pytest.raises(SystemExit):
        worker.stop()


@needs_commits
def test_a_long_task_does_not_hold_up_the_periodic_jobs(keep_signal_handlers):
    """Periodic jobs (sweep, outbox, reminders) keep their tick while the worker runs a long task."""
    worker_jobs.events.clear()
    worker_jobs.long_task.enqueue(3.0)
    worker = KangleWorker(interval=0.2, jobs=[("core.worker_jobs.stamp", 0.2)], worker_id="test-worker-5")
    worker.run(max_loops=1)
    events = worker_jobs.events
    started = next(at for kind, at in events if kind == "task-start")
    ended = next(at for kind, at in events if kind == "task-end")
    during = [at for kind, at in events if kind == "job" and started < at < ended]
    assert len(during) >= 5, events  # ticks of 0.2 s through a 3 s task (not one after it)


@needs_commits
def test_a_database_error_is_one_log_line_then_the_loop_backs_off_and_goes_on(
    keep_signal_handlers, caplog, monkeypatch
):
    """A busy or unreachable database ("database is locked") must not kill the worker."""
    from django.db import OperationalError

    worker = KangleWorker(interval=0, jobs=[(COUNT, 0.0001)], worker_id="test-worker-6")
    polls = {"n": 0}
    real = worker.run_tasks

    def busy_then_fine():
        polls["n"] += 1
        if polls["n"] <= 2:
            raise OperationalError("database is locked")
        real()

    monkeypatch.setattr(worker, "run_tasks", busy_then_fine)
    waits = []

    def pause(seconds):
        if threading.current_thread() is threading.main_thread():  # the task loop, not the periodic one
            waits.append(seconds)

    monkeypatch.setattr(worker, "pause", pause)
    worker.run(max_loops=4)
    assert polls["n"] == 4  # the loop went on after both errors
    lines = [r for r in caplog.records if "database error in tasks" in r.getMessage()]
    assert len(lines) == 2
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in lines)  # one line, no traceback
    assert "database is locked" in lines[0].getMessage()
    assert waits[:2] == [0.5, 1.0]  # backing off, doubling
    assert worker.database_errors == 2


@pytest.mark.django_db
def test_a_periodic_job_meeting_a_database_error_logs_one_line(caplog):
    from django.db import OperationalError

    def locked(**_):
        raise OperationalError("database is locked")

    worker = KangleWorker(jobs=[(COUNT, 1)], worker_id="test-worker-7")
    worker.jobs[0].function = locked
    assert worker.run_due_jobs() is False
    lines = [r for r in caplog.records if "database error" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None
