"""Turning an id from a request into an activities object: 404 outside the actor's reach."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from kangle.activities.models import ServiceRecord
from kangle.core.files import StoredFile
from kangle.orgs.selectors import paths_q


def access_service_record(actor, pk) -> ServiceRecord:
    """A service record under the actor's staff scope, or one of the actor's own."""
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    if not getattr(actor, "is_authenticated", False):
        raise Http404
    rows = ServiceRecord.objects.select_related("member", "org")
    if not actor.is_superuser:
        reach = Q(member__user=actor)
        if actor.scope_paths:
            reach |= paths_q(actor.scope_paths, "org__path")
        rows = rows.filter(reach)
    record = rows.filter(pk=number).first()
    if record is None:
        raise Http404
    return record


def record_photo_file(request, pk: int) -> StoredFile:
    return StoredFile(name=access_service_record(request.user, pk).photo.name)
