"""Periodic jobs owned by core."""

from __future__ import annotations

import os
import socket

from kangle.core.models import WorkerHeartbeat
from kangle.core.timeutil import now as current_time


def record_heartbeat(*, worker_id: str, started_at, jobs_run: int = 0, **_) -> None:
    moment = current_time()
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(last_seen=moment, jobs_run=jobs_run)
    if not updated:
        WorkerHeartbeat.objects.create(
            worker_id=worker_id,
            hostname=socket.gethostname()[:200],
            pid=os.getpid(),
            started_at=started_at,
            last_seen=moment,
            jobs_run=jobs_run,
        )
