"""Writing audit events. Services call ``record`` explicitly, inside their transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kangle.core.models import AuditEvent
from kangle.core.rawrows import insert_one
from kangle.core.timeutil import resolve_now


def event(
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
    """The audit event for a change, not yet written: ``record`` writes it, and a busy path may write it
    in the same statement as the row it is about (``rawrows.insert_one(…, followed_by=(event, "object_id"))``)
    before that row has its key."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if object_id is None else object_id
        if not org_path:
            org_path = _org_path_of(obj)
    return AuditEvent(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        verb=verb,
        object_type=object_type or "",
        object_id=str(object_id or ""),
        object_repr=str(obj)[:200] if obj is not None else "",
        org_path=org_path,
        at=resolve_now(now),
        details=details or {},
    )


def record(**what) -> AuditEvent:
    """Write the audit event for a change (``event``'s arguments). Every change writes one: its INSERT is
    written once, not compiled by the ORM per call."""
    return insert_one(event(**what))


def _org_path_of(obj: Any) -> str:
    """Objects carry their place in the tree either as ``path`` (an org unit) or through ``org``."""
    path = getattr(obj, "path", None)
    if isinstance(path, str):
        return path
    org = getattr(obj, "org", None)
    return getattr(org, "path", "") or ""
