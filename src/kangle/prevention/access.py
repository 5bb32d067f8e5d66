"""Turning an id from a request into a prevention object: 404 outside the actor's reach."""

from __future__ import annotations

from django.http import Http404

from kangle.core.files import StoredFile
from kangle.prevention.models import Reading, SprayingPhoto
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


def access_spraying_photo(actor, pk) -> SprayingPhoto:
    """A spraying photo of an estate the actor may inspect."""
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    found = (
        inspector_queryset(actor, SprayingPhoto.objects.select_related("spraying"), "spraying__org_path")
        .filter(pk=number)
        .first()
    )
    if found is None:
        raise Http404
    return found


def spraying_photo_file(request, pk: int) -> StoredFile:
    return StoredFile(name=access_spraying_photo(request.user, pk).file.name)
