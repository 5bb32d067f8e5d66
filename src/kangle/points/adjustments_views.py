"""The manual-adjustment page: find a member (name or mobile), adjust with a reason, approve others' requests."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kangle.core.errors import UserError
from kangle.core.roles import Role
from kangle.members.models import Member
from kangle.members.selectors import find_members
from kangle.orgs.access import access_unit
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import get_in_scope_or_404, scope_queryset
from kangle.points.forms import AdjustForm, DecideForm, LimitForm, form_errors_text
from kangle.points.models import AdjustmentRequest, AdjustmentStatus
from kangle.points.services import adjustments


def _require(request) -> None:
    if not (request.user.is_superuser or request.user.has_role(Role.STREET_ADMIN)):
        raise Http404


@login_required
def adjustments_page(request):
    _require(request)
    query = request.GET.get("q", "")
    streets = OrgUnit.objects.filter(pk__in=request.user.units_for(Role.STREET_ADMIN)).order_by("path")
    pending = scope_queryset(
        request.user,
        AdjustmentRequest.objects.filter(status=AdjustmentStatus.PENDING).select_related(
            "member", "requested_by"
        ),
        "org_path",
    )
    context = {
        "query": query,
        "matches": find_members(request.user, query),
        "pending": pending[:100],
        "limits": [(street, adjustments.approval_above(street)) for street in streets],
    }
    return render(request, "points/adjustments.html", context)


@login_required
@require_POST
def adjust(request):
    _require(request)
    form = AdjustForm(request.POST)
    valid = form.is_valid()
    # Scope first: a member outside the actor's area is a 404 whatever else was typed.
    member = get_in_scope_or_404(
        request.user, Member.objects.select_related("community"), pk=form.cleaned_data.get("member") or 0
    )
    if not valid:
        messages.error(request, form_errors_text(form))
        return redirect("points:adjustments")
    try:
        result = adjustments.points_adjust_request(
            actor=request.user,
            member=member,
            points=form.cleaned_data["points"],
            reason=form.cleaned_data["reason"],
        )
    except UserError as exc:
        messages.error(request, str(exc))
    else:
        if isinstance(result, AdjustmentRequest):
            messages.info(request, _("Above the street's limit: waiting for a second street admin."))
        else:
            messages.success(request, _("Points adjusted."))
    return redirect("points:adjustments")


@login_required
@require_POST
def decide(request, request_id):
    _require(request)
    pending = adjustments.access_request(request.user, request_id)
    form = DecideForm(request.POST)
    approve = bool(form.cleaned_data.get("approve")) if form.is_valid() else False
    try:
        adjustments.adjustment_decide(actor=request.user, request=pending, approve=approve)
    except UserError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Decision recorded."))
    return redirect("points:adjustments")


@login_required
@require_POST
def set_limit(request):
    _require(request)
    form = LimitForm(request.POST)
    valid = form.is_valid()
    street = access_unit(request.user, form.cleaned_data.get("street") or "")
    if not valid:
        messages.error(request, form_errors_text(form))
        return redirect("points:adjustments")
    try:
        adjustments.adjustment_limit_set(
            actor=request.user, street=street, approval_above=form.cleaned_data["approval_above"]
        )
    except UserError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Limit saved."))
    return redirect("points:adjustments")
