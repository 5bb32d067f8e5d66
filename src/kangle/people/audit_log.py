"""Reading the audit log, scoped like everything else: a street admin sees their street's events, an area
admin their area's (by the event's org path); only the superuser sees events with no place in the tree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kangle.accounts.permissions import can_view_audit
from kangle.core.models import AuditEvent
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import get_in_scope_or_404
from kangle.orgs.selectors import paths_q, subtree_q

# Actions that show or take out someone's personal data: the "who looked at whose data" view.
# Verbs are ``<entity>.<verb>``: every export is ``<entity>.export``; reveals are ``member.reveal`` and
# ``case.contact_reveal``.
PERSONAL_DATA_VERBS = Q(verb__endswith=".export") | Q(verb__contains="reveal")


@dataclass(frozen=True)
class AuditFilter:
    person: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    org_code: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    personal_data: bool = False


def events_for(actor) -> QuerySet[AuditEvent]:
    if not can_view_audit(actor):
        raise Http404
    rows = AuditEvent.objects.select_related("actor")
    if actor.is_superuser:
        return rows
    return rows.filter(paths_q(actor.scope_paths, "org_path"))


def filtered(actor, spec: AuditFilter) -> QuerySet[AuditEvent]:
    rows = events_for(actor)
    if spec.person:
        rows = rows.filter(Q(actor__username=spec.person) | Q(actor__display_name=spec.person))
    if spec.action:
        rows = rows.filter(verb__startswith=spec.action)
    if spec.object_type:
        rows = rows.filter(object_type=spec.object_type)
    if spec.object_id:
        rows = rows.filter(object_id=spec.object_id)
    if spec.org_code:
        unit = get_in_scope_or_404(actor, OrgUnit.objects.all(), path_field="path", code=spec.org_code)
        rows = rows.filter(subtree_q(unit.path, "org_path"))
    if spec.since:
        rows = rows.filter(at__gte=timezone.make_aware(dt.datetime.combine(spec.since, dt.time.min)))
    if spec.until:
        rows = rows.filter(
            at__lt=timezone.make_aware(dt.datetime.combine(spec.until + dt.timedelta(days=1), dt.time.min))
        )
    if spec.personal_data:
        rows = rows.filter(PERSONAL_DATA_VERBS)
    return rows.order_by("-at", "-id")


def access_event(actor, event_id) -> AuditEvent:
    try:
        return events_for(actor).get(pk=int(event_id))
    except (AuditEvent.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def common_path(actor) -> str:
    """The org path an export of the actor's whole view covers (their widest node)."""
    paths = sorted(actor.scope_paths, key=len)
    return "" if actor.is_superuser or not paths else paths[0]
