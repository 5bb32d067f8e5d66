"""Background tasks of the members app, run by `kangle worker` (django.tasks, database backend)."""

from __future__ import annotations

from django_tasks import task

from kangle.members.importing import run_commit


@task()
def commit_import(job_id: str) -> int:
    """Commit a checked member import, all or nothing; returns how many files were created."""
    return run_commit(job_id).created_count
