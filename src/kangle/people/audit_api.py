"""/api/v1/audit/…: the audit-log viewer's API (street and area admins, scoped by the events' org path)."""

import datetime as dt

from ninja import Router, Schema
from ninja.pagination import paginate

from kangle.core.pagination import Listing, Pagination
from kangle.people import audit_log

router = Router(tags=["audit"])


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
@paginate(Pagination, page_size=50)
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
    return Listing(audit_log.filtered(request.user, spec), row=_out, seek=("-at", "-id"))


@router.get("/events/{event_id}", response=EventOut)
def get_event(request, event_id: int):
    return _out(audit_log.access_event(request.user, event_id))
