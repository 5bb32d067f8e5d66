"""`kangle worker`: runs queued tasks (django.tasks, database backend) and the periodic jobs.

The periodic jobs (SLA sweep, outbox, reminders, heartbeat) run in their own thread, so a long task (a
20,000-row import) never delays a deadline by more than one tick. Neither loop can die of the database: a
database error (unreachable server, "database is locked") is logged as one line, and the loop backs off
and tries again.

Several workers on several machines may run against one PostgreSQL: tasks are claimed with row locks by
the django-tasks-db backend, and every periodic job is written to be safe when run twice at once
(compare-and-set updates). Nothing is kept only in memory: a restarted worker picks up where it was.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from django.utils.module_loading import import_string

from kangle.core.timeutil import now

logger = logging.getLogger("kangle.worker")

MAX_BACKOFF = 30.0


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300]


class Backoff:
    """Seconds to wait after the n-th failure in a row: doubling from ``first`` up to MAX_BACKOFF."""

    def __init__(self, first: float = 1.0):
        self.first = max(first, 0.5)
        self.failures = 0

    def failed(self) -> float:
        self.failures += 1
        return min(MAX_BACKOFF, self.first * 2 ** (self.failures - 1))

    def succeeded(self) -> None:
        self.failures = 0


@dataclass
class PeriodicJob:
    path: str
    every: float
    function: object = None
    last_run: float = field(default=0.0)

    def __post_init__(self):
        self.function = import_string(self.path)


class KangleWorker:
    def __init__(
        self, *, interval: float = 1.0, jobs: list[tuple[str, float]] | None = None, worker_id: str = ""
    ):
        self.interval = interval
        self.jobs = [
            PeriodicJob(path, every)
            for path, every in (jobs if jobs is not None else settings.KANGLE_PERIODIC_JOBS)
        ]
        self.worker_id = worker_id or f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.started_at = now()
        self.running = True
        self.jobs_run = 0
        self.database_errors = 0
        self._wake = threading.Event()
        self._finished = threading.Event()

    def stop(self, *_):
        if not self.running:
            raise SystemExit(1)  # second Ctrl-C: leave at once
        logger.info("worker %s stopping after the current step", self.worker_id)
        self.running = False
        self._wake.set()

    def run_tasks(self) -> None:
        """Run every ready task of the database queue, then return."""
        from django_tasks_db.management.commands.db_worker import Worker

        Worker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=self.worker_id[:64],
            excluded_queue_names=[],
        ).run()

    def run_due_jobs(self, clock: float | None = None) -> bool:
        """Run every job whose period has passed. Returns False when one of them met a database error."""
        clock = time.monotonic() if clock is None else clock
        healthy = True
        for job in self.jobs:
            if not self.running:
                return healthy
            if job.last_run and clock - job.last_run < job.every:
                continue
            job.last_run = clock
            try:
                job.function(worker_id=self.worker_id, started_at=self.started_at, jobs_run=self.jobs_run)
                self.jobs_run += 1
            except DatabaseError as exc:  # retried on its next turn; the loop backs off meanwhile
                healthy = False
                self.database_errors += 1
                _drop_connections()
                logger.warning("periodic job %s: database error: %s", job.path, _one_line(exc))
            except Exception:  # a failing job must not stop the others; it is retried on its next turn
                logger.exception("periodic job %s failed", job.path)
        return healthy

    def run_once(self) -> None:
        close_old_connections()
        self.guarded("tasks", self.run_tasks)
        self.run_due_jobs()
        close_old_connections()

    def guarded(self, name: str, step: Callable[[], object]) -> bool:
        """Run one step of a loop; a database error is logged as one line and reported as False."""
        try:
            step()
            return True
        except DatabaseError as exc:
            self.database_errors += 1
            _drop_connections()
            logger.warning("worker %s: database error in %s: %s", self.worker_id, name, _one_line(exc))
            return False

    def pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the worker is asked to stop."""
        self._wake.wait(seconds)

    def periodic_loop(self) -> None:
        """The periodic jobs' own loop (a thread of `kangle worker`), independent of long tasks. It runs at
        least one round, then one per tick until the worker stops."""
        backoff = Backoff(self.interval)
        tick = max(0.2, min([1.0, self.interval, *(job.every for job in self.jobs)]))
        try:
            while True:
                close_old_connections()
                if self.run_due_jobs():
                    backoff.succeeded()
                    delay = tick
                else:
                    delay = backoff.failed()
                if not self.running or self._finished.is_set():
                    return
                self.pause(delay)
        finally:
            connections.close_all()

    def run(self, *, max_loops: int | None = None) -> None:
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGTERM, self.stop)
        logger.info("worker %s started: %d periodic jobs", self.worker_id, len(self.jobs))
        self._wake.clear()
        self._finished.clear()
        periodic = threading.Thread(target=self.periodic_loop, name="kangle-periodic", daemon=True)
        periodic.start()
        backoff = Backoff(self.interval)
        loops = 0
        try:
            while self.running:
                close_old_connections()
                if self.guarded("tasks", self.run_tasks):
                    backoff.succeeded()
                    delay = self.interval
                else:
                    delay = backoff.failed()
                close_old_connections()
                loops += 1
                if max_loops is not None and loops >= max_loops:
                    break
                self.pause(delay)
        finally:
            self._finished.set()
            self._wake.set()
            periodic.join(timeout=60)
        logger.info("worker %s stopped", self.worker_id)


def _drop_connections() -> None:
    """Forget this thread's broken connection so the next step opens a fresh one."""
    for alias in connections:
        with contextlib.suppress(DatabaseError):
            connections[alias].close()
