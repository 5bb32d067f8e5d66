"""Turning an id from a request into a case object: one helper per entity, 404 outside the actor's reach.

Pages and the API call these for ids in paths, query strings and bodies alike.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from kangle.cases import permissions
from kangle.cases.models import Case, CasePhoto
from kangle.core.files import StoredFile
from kangle.core.rawrows import Prepared
from kangle.orgs.scope import scope_queryset

# The session key under which the public tracking page remembers the cases a visitor has proven.
TRACK_SESSION_KEY = "cases_tracked"


def visible_cases(actor) -> QuerySet[Case]:
    """Staff in scope, the contractor's dispatched cases, the reporter's own: one queryset."""
    query = Q(pk__in=scope_queryset(actor, Case.objects.all()).values("pk"))
    ids = permissions.contractor_ids(actor)
    if ids:
        query |= Q(contractor_id__in=ids)
    if getattr(actor, "is_authenticated", False):
        query |= Q(reporter=actor)
    return Case.objects.filter(query)


# Compiled once per process (core.rawrows.Prepared): every case page and API call reads its case this way.
_CASE_BY_NUMBER = Prepared(
    lambda number: Case.objects.select_related("category__policy", "org", "contractor", "reporter").filter(
        number=number
    )[:1]
)


def case_by_number(number) -> Case | None:
    """The case with this number (unique), with its category and policy, place, contractor and reporter;
    nothing is checked: the caller judges who may see it."""
    return _CASE_BY_NUMBER.first(str(number)[:20])


def access_case(actor, number) -> Case:
    """The case ``number`` if the actor may see it (staff in scope, its contractor, its reporter); else 404."""
    # The number is unique: read the one row, then judge it. Filtering through ``visible_cases`` would make
    # the database walk the whole scope (``pk IN scope OR contractor OR reporter``) for a single case.
    case = case_by_number(number)
    if case is None or not permissions.can_view_case(actor, case):
        raise Http404
    return case


def access_case_photo(actor, pk, *, tracked: list[int] = ()) -> CasePhoto:
    """A photo of a case the actor may see (staff in scope, its contractor, its reporter) or one the
    visitor proved on the tracking page."""
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    item = CasePhoto.objects.select_related("case__org").filter(pk=number).first()
    if item is None or not (permissions.can_view_case(actor, item.case) or item.case_id in tracked):
        raise Http404
    return item


def case_photo_file(request, pk: int) -> StoredFile:
    item = access_case_photo(request.user, pk, tracked=request.session.get(TRACK_SESSION_KEY, []))
    return StoredFile(name=item.file.name, content_type=item.content_type)
