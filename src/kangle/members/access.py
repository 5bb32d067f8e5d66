"""Turning member ids from a request (path, query or body) into member files.

One uniform answer for everything the actor may not use: a missing id, an unapproved file and a file
outside the actor's subtree look the same (404 for a single id; for a list, one error that names and counts
nothing), so the answer tells nothing about files the actor may not see.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kangle.core.errors import UserError
from kangle.core.rawrows import prepared_for
from kangle.core.roles import person_key
from kangle.members.constants import Status
from kangle.members.models import Member
from kangle.orgs.scope import scope_queryset

DETAIL_RELATED = ("community", "microgrid", "point", "employer", "party_org", "org")


def members_in_reach(actor, queryset: QuerySet[Member] | None = None) -> QuerySet[Member]:
    """Member files under the actor's staff subtree."""
    rows = queryset if queryset is not None else Member.objects.all()
    return scope_queryset(actor, rows, "org__path")


def access_member(actor, pk, *, approved: bool = False, queryset: QuerySet[Member] | None = None) -> Member:
    """The member file ``pk`` if the actor's scope holds it (and it is approved, when asked); else 404."""
    number = _as_int(pk)
    if number is None:
        raise Http404

    def build(wanted: int) -> QuerySet[Member]:
        rows = members_in_reach(
            actor, queryset if queryset is not None else Member.objects.select_related(*DETAIL_RELATED)
        )
        if approved:
            rows = rows.filter(status=Status.APPROVED)
        return rows.filter(pk=wanted).order_by()

    reach = getattr(actor, "is_authenticated", False) and (actor.is_superuser or actor.scope_paths)
    if queryset is None and reach:
        # The plain file read, compiled once per person (every member page and API call reads one).
        member = prepared_for(("members.file", person_key(actor), approved), build).first(number)
    else:
        member = build(number).first()
    if member is None:
        raise Http404
    return member


def access_members(
    actor,
    ids: Iterable,
    *,
    field: str,
    approved: bool = True,
    queryset: QuerySet[Member] | None = None,
) -> list[Member]:
    """All the listed member files, in the order given, or one error that names and counts none of them."""
    wanted = []
    for value in ids:
        number = _as_int(value)
        if number is None:
            raise refused(field)
        if number not in wanted:
            wanted.append(number)
    if not wanted:
        raise UserError("empty_team", _("Choose at least one member"), field=field)
    rows = members_in_reach(
        actor, queryset if queryset is not None else Member.objects.select_related("org", "community")
    )
    if approved:
        rows = rows.filter(status=Status.APPROVED)
    found = {member.pk: member for member in rows.filter(pk__in=wanted)}
    if len(found) != len(wanted):
        raise refused(field)
    return [found[pk] for pk in wanted]


def refused(field: str) -> UserError:
    """The one answer for a list holding any member the actor may not choose (never says which, or how many)."""
    return UserError(
        "members_not_available",
        _("The list holds people you cannot choose here; choose again from the members you can see"),
        field=field,
    )


def _as_int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None
