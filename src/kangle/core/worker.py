"""`kangle worker`: runs queued tasks (django.tasks, database backend) and the periodic jobs.

Several workers on several machines may run against one PostgreSQL: tasks are claimed with row locks by
the django-tasks-db backend, and every periodic job is written to be safe when run twice at once
(compare-and-set updates). Nothing is kept only in memory: a restarted worker picks up where it was.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string

from kangle.core.timeutil import now

logger = logging.getLogger("kangle.worker")


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

    def stop(self, *_):
        if not self.running:
            raise SystemExit(1)  # second Ctrl-C: leave at once
        logger.info("worker %s stopping after the current step", self.worker_id)
        self.running = False

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

    def run_due_jobs(self, clock: float | None = None) -> None:
        clock = time.monotonic() if clock is None else clock
        for job in self.jobs:
            if not self.running:
                return
            if job.last_run and clock - job.last_run < job.every:
                continue
            job.last_run = clock
            try:
                job.function(worker_id=self.worker_id, started_at=self.started_at, jobs_run=self.jobs_run)
                self.jobs_run += 1
            except Exception:  # a failing job must not stop the others; it is retried on its next turn
                logger.exception("periodic job %s failed", job.path)

    def run_once(self) -> None:
        close_old_connections()
        self.run_tasks()
        self.run_due_jobs()
        close_old_connections()

    def run(self, *, max_loops: int | None = None) -> None:
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGTERM, self.stop)
        logger.info("worker %s started: %d periodic jobs", self.worker_id, len(self.jobs))
        loops = 0
        while self.running:
            self.run_once()
            loops += 1
            if max_loops is not None and loops >= max_loops:
                break
            time.sleep(self.interval)
        logger.info("worker %s stopped", self.worker_id)
