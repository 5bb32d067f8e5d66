"""Categories as intake needs them, kept per process: the category, its policy, the policy's milestones,
its questions and whether it has children — read once, not on every new case.

Every change to this reference data (``cases.reference`` services, the admin, the seeding in
``cases.defaults``) calls ``reference_changed()`` in its transaction: it bumps a one-row version in the
database, so the commit that changes a category also tells every process that its copy is stale. Each
lookup reads that version (one primary-key read) and drops the whole cache when it moved; a process thus
never starts a clock on a policy or accepts a category that a committed change has replaced or retired.
"""

from __future__ import annotations

import copy
import threading

from django.db import connection
from django.db.models import Exists, OuterRef

from kangle.cases.models import CaseCategory

VERSION_TABLE = "cases_reference_version"

_lock = threading.Lock()
_state: dict = {"version": None, "by_code": {}}


def reference_changed() -> None:
    """Mark the categories, policies, milestones and questions as changed (call inside the change's
    transaction); this process forgets its copy at once, the others at their next lookup."""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {VERSION_TABLE} SET value = value + 1 WHERE id = 1")  # noqa: S608 - constant
    forget()


def forget() -> None:
    with _lock:
        _state["version"] = None
        _state["by_code"] = {}


def _version() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {VERSION_TABLE} WHERE id = 1")  # noqa: S608 - constant
        row = cursor.fetchone()
    return row[0] if row else 0


def _load(code: str) -> CaseCategory | None:
    children = CaseCategory.objects.filter(parent=OuterRef("pk"))
    return (
        CaseCategory.objects.filter(code=code)
        .select_related("policy")
        .annotate(has_children=Exists(children))
        .prefetch_related("questions", "policy__milestones")
        .first()
    )


def category_for_intake(code: str) -> CaseCategory | None:
    """The category with this code (active or not; the service decides), its policy, milestones and
    questions loaded, or None. Each caller gets its own copy of the row."""
    version = _version()
    with _lock:
        if _state["version"] != version:
            _state["version"], _state["by_code"] = version, {}
        cached = _state["by_code"].get(code)
    if cached is None:
        cached = _load(code)
        if cached is None:
            return None
        with _lock:
            if _state["version"] == version:
                _state["by_code"][code] = cached
    return copy.copy(cached)
