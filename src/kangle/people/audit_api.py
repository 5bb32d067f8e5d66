"""/api/v1/audit/…: the audit-log viewer's API (street and area admins, scoped by the events' org path)."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema

from kangle.people import audit_log

router = Router(tags=["audit"])
MAX_LIMIT = 200


class EventOut(Schema):
    id: int
    at: dt.datetime
    actor: str | None
    verb: str
    object_type: str
    object_id: str
    object_repr: str
    org_path: str
    details: dict


def _out(e) -> dict:
    return {
        "id": e.pk,
        "at": e.at,
        "actor": e.actor.username if e.actor else None,
        "verb": e.verb,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "object_repr": e.object_repr,
        "org_path": e.org_path,
        "details": e.details,
    }


@router.get("/events", response=list[EventOut])
def list_events(
    request,
    person: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    org: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
    personal_data: bool = False,
    limit: int = 50,
    offset: int = 0,
):
    spec = audit_log.AuditFilter(
        person=person,
        action=action,
        object_type=object_type,
        object_id=object_id,
        org_code=org,
        since=since,
        until=until,
        personal_data=personal_data,
    )
    rows = audit_log.filtered(request.user, spec)
    limit = min(max(limit, 1), MAX_LIMIT)
    offset = max(offset, 0)
    return [_out(e) for e in rows[offset : offset + limit]]


@router.get("/events/{event_id}", response=EventOut)
def get_event(request, event_id: int):
    return _out(audit_log.access_event(request.user, event_id))
