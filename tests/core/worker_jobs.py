"""Jobs and a task for tests/core/test_worker.py, importable by dotted path as the worker needs."""

from __future__ import annotations

from django_tasks import task

from kangle.core import audit

calls: list[str] = []


def count_calls(**_) -> None:
    calls.append("count")


def always_fails(**_) -> None:
    calls.append("fail")
    raise RuntimeError("this job always fails")


@task()
def write_audit_event(verb: str, note: str) -> str:
    """A real task: what it writes shows that the worker ran it."""
    audit.record(actor=None, verb=verb, object_type="test", object_id=1, details={"note": note})
    return note.upper()


events: list[tuple[str, float]] = []


def stamp(**_) -> None:
    """A periodic job that notes when it ran."""
    import time

    events.append(("job", time.monotonic()))


@task()
def long_task(seconds: float) -> None:
    """A task that takes a while (as a large import does), noting when it started and ended."""
    import time

    events.append(("task-start", time.monotonic()))
    time.sleep(seconds)
    events.append(("task-end", time.monotonic()))
