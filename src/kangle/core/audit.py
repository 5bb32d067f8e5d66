"""Writing audit events. Services call ``record`` explicitly, inside their transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kangle.core.models import AuditEvent
from kangle.core.rawrows import insert_one
from kangle.core.timeutil import resolve_now


def record(
    *,
    actor,
    verb: str,
    obj: Any = None,
    object_type: str | None = None,
    object_id: Any = None,
    org_path: str = "",
    details: dict | None = None,
    now: dt.datetime | None = None,
) -> AuditEvent:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if object_id is None else object_id
        if not org_path:
            org_path = _org_path_of(obj)
    # Every change writes one: its INSERT is written once, not compiled by the ORM per call.
    return insert_one(
        AuditEvent(
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            verb=verb,
            object_type=object_type or "",
            object_id=str(object_id or ""),
            object_repr=str(obj)[:200] if obj is not None else "",
            org_path=org_path,
            at=resolve_now(now),
            details=details or {},
        )
    )


def _org_path_of(obj: Any) -> str:
    """Objects carry their place in the tree either as ``path`` (an org unit) or through ``org``."""
    path = getattr(obj, "path", None)
    if isinstance(path, str):
        return path
    org = getattr(obj, "org", None)
    return getattr(org, "path", "") or ""
