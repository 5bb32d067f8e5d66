"""Turning an id from a request into a prevention object: 404 outside the actor's reach."""

from __future__ import annotations

from django.http import Http404

from kangle.core.files import StoredFile
from kangle.prevention.models import Reading
from kangle.prevention.permissions import inspector_queryset


def access_reading(actor, pk) -> Reading:
    """A reading at a point the actor may inspect (staff in scope, a contractor covering the place)."""
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    reading = inspector_queryset(
        actor, Reading.objects.select_related("point__org"), "point__org__path"
    ).filter(pk=number)
    found = reading.first()
    if found is None:
        raise Http404
    return found


def reading_photo_file(request, pk: int) -> StoredFile:
    return StoredFile(name=access_reading(request.user, pk).photo.name)
