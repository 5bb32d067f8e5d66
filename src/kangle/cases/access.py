"""Turning an id from a request into a case object: one helper per entity, 404 outside the actor's reach.

Pages and the API call these for ids in paths, query strings and bodies alike.
"""

from __future__ import annotations

from django.http import Http404

from kangle.cases import permissions
from kangle.cases.models import CasePhoto
from kangle.core.files import StoredFile

# The session key under which the public tracking page remembers the cases a visitor has proven.
TRACK_SESSION_KEY = "cases_tracked"


def access_case_photo(actor, pk, *, tracked: list[int] = ()) -> CasePhoto:
    """A photo of a case the actor may see (staff in scope, its contractor, its reporter) or one the
    visitor proved on the tracking page."""
    item = CasePhoto.objects.select_related("case__org").filter(pk=_int(pk)).first()
    if item is None or not (permissions.can_view_case(actor, item.case) or item.case_id in tracked):
        raise Http404
    return item


def case_photo_file(request, pk: int) -> StoredFile:
    item = access_case_photo(request.user, pk, tracked=request.session.get(TRACK_SESSION_KEY, []))
    return StoredFile(name=item.file.name, content_type=item.content_type)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None
