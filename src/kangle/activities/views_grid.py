"""A grid leader's phone pages: the grid's members, its whistle calls (answering for the group) and to-do."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kangle.activities import selectors, services
from kangle.activities.access import access_call_in_reach
from kangle.activities.forms import MembersForm
from kangle.activities.models import CallStatus, WhistleCall
from kangle.core.errors import UserError, message_in_language
from kangle.core.roles import Role
from kangle.core.timeutil import now
from kangle.members.constants import Status
from kangle.members.models import Member
from kangle.orgs.models import OrgUnit
from kangle.orgs.selectors import subtree_q


def _grids_of(request) -> list[OrgUnit]:
    if not request.user.has_role(Role.GRID_LEADER):
        raise Http404
    return list(OrgUnit.objects.filter(pk__in=request.user.units_for(Role.GRID_LEADER)).order_by("path"))


def _members_under(grids: list[OrgUnit]):
    query = subtree_q(grids[0].path, "org__path")
    for grid in grids[1:]:
        query |= subtree_q(grid.path, "org__path")
    return Member.objects.filter(query)


def _open_calls(grids: list[OrgUnit]):
    return (
        WhistleCall.objects.filter(
            selectors.asking_grids_q(grids), status=CallStatus.OPEN, deadline__gt=now()
        )
        .select_related("org")
        .distinct()
        .order_by("deadline")
    )


@login_required
def grid_home(request):
    grids = _grids_of(request)
    members = (
        _members_under(grids)
        .filter(status=Status.APPROVED)
        .select_related("microgrid")
        .order_by("name")[:300]
        if grids
        else []
    )
    calls = list(_open_calls(grids)[:20]) if grids else []
    return render(request, "activities/m_grid.html", {"grids": grids, "members": members, "calls": calls})


@login_required
def grid_call(request, pk: int):
    """One call for the grid: who answered, and the leader answers for members who told them in person."""
    grids = _grids_of(request)
    call = access_call_in_reach(request.user, pk)
    form = MembersForm(request.POST if request.method == "POST" else None)
    chosen = form.cleaned_data["member"] if form.is_bound and form.is_valid() else []
    error = ""
    if request.method == "POST":
        try:
            if not form.is_valid():
                raise UserError(
                    "invalid_member_ids", gettext_lazy("Choose from the list."), field="member_ids"
                )
            fresh = services.response_grid(actor=request.user, call=call, member_ids=chosen)
        except UserError as exc:
            error = message_in_language(exc)
        else:
            messages.success(request, _("%(n)d reported for the group.") % {"n": len(fresh)})
            return redirect("activities:m-grid-call", call.pk)
    answered = set(call.responses.values_list("member_id", flat=True))
    group = [
        m
        for m in (
            _members_under(grids).filter(status=Status.APPROVED).order_by("name")[:200] if grids else []
        )
        if m.pk not in answered
    ]
    context = {
        "call": call,
        "responses": call.responses.select_related("member").order_by("responded_at", "id"),
        "group": group,
        "chosen": {str(pk) for pk in chosen},
        "error": error,
        "is_open": call.status == CallStatus.OPEN,
    }
    return render(request, "activities/m_grid_call.html", context)


@login_required
def grid_todo(request):
    """What the grid still needs: calls short of people, and registrations waiting for the community."""
    grids = _grids_of(request)
    short = list(_open_calls(grids).filter(responded_count__lt=F("people_needed"))[:20]) if grids else []
    pending = (
        list(_members_under(grids).filter(status=Status.PENDING).order_by("registered_at")[:50])
        if grids
        else []
    )
    return render(
        request, "activities/m_grid_todo.html", {"short": short, "pending": pending, "grids": grids}
    )
