"""Turning an id from a request into an activities object: 404 outside the actor's reach."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from kangle.activities import permissions, selectors, services
from kangle.activities.models import Activity, ServiceRecord, WhistleCall
from kangle.core.files import StoredFile
from kangle.members.access import members_in_reach
from kangle.members.constants import Status
from kangle.members.models import Member
from kangle.members.selectors import own_file
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import get_in_scope_or_404, scope_queryset
from kangle.orgs.selectors import paths_q


def _number(pk) -> int:
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < number < 2**63:
        raise Http404
    return number


def access_activity(actor, pk) -> Activity:
    """An activity the actor may act on: staff in scope, a member it reaches, an employer Party
    organisation whose members it reaches. Anything else — missing or not theirs — is the same 404."""
    number = _number(pk)
    rows = Activity.objects.select_related("org", "aspect", "venue")
    if permissions.is_staff(actor):
        found = scope_queryset(actor, rows).filter(pk=number).first()
        if found is not None:
            return found
    member = own_file(actor)
    if member is not None:
        found = selectors.activities_for_member(member).filter(pk=number).first()
        if found is not None:
            return found
    if permissions.is_party_org_account(actor):
        for party_org in actor.party_orgs.all():
            found = selectors.activities_for_party_org(party_org).filter(pk=number).first()
            if found is not None:
                return found
    raise Http404


def access_call(actor, pk) -> WhistleCall:
    """A whistle call the actor may see: staff in scope (a grid leader for the grids it names), a member it
    reaches, an employer Party organisation whose members it reaches; else 404."""
    number = _number(pk)
    rows = WhistleCall.objects.select_related("org", "created_by")
    if permissions.is_staff(actor):
        found = (
            scope_queryset(actor, rows).filter(pk=number).first()
            or rows.filter(pk=number, grids__pk__in=actor.units_for("grid_leader")).first()
        )
        if found is not None:
            return found
    member = own_file(actor)
    if member is not None:
        found = selectors.calls_for_member(member).filter(pk=number).first()
        if found is not None:
            return found
    if permissions.is_party_org_account(actor):
        for party_org in actor.party_orgs.all():
            found = selectors.calls_for_party_org(party_org).filter(pk=number).first()
            if found is not None:
                return found
    raise Http404


def access_call_in_reach(user, pk) -> WhistleCall:
    """Staff see the calls of their subtree.

    A grid leader also sees the calls that ask their grid: targeted at it, or blown by a unit above it
    without narrowing to grids (such a call asks the whole of its ``org``)."""
    rows = WhistleCall.objects.select_related("org", "created_by")
    try:
        return get_in_scope_or_404(user, rows, pk=_number(pk))
    except Http404:
        grids = list(OrgUnit.objects.filter(pk__in=user.units_for("grid_leader")))
        call = rows.filter(selectors.asking_grids_q(grids), pk=_number(pk)).distinct().first()
        if call is None:
            raise
        return call


def access_service_record(actor, pk) -> ServiceRecord:
    """A service record under the actor's staff scope, or one of the actor's own."""
    number = _number(pk)
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


def access_attendee(actor, activity: Activity, member_id) -> Member:
    """A member staff may check in or out of ``activity``: an approved member in the actor's scope, or one
    signed up for it, whom the activity reaches. Missing, unapproved and out-of-reach ids all get the same
    404, so the answer tells nothing about members the actor may not see."""
    number = _number(member_id)
    rows = Member.objects.select_related("org", "community").filter(pk=number, status=Status.APPROVED)
    member = members_in_reach(actor, rows).first()
    if member is None:
        member = rows.filter(activity_signups__activity=activity).first()
    if member is None or not services.reaches(member, activity.org):
        raise Http404
    return member
