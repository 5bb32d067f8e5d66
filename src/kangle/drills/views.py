"""Workbench pages of the drill register: the care homes with the figures, and one drill."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kangle.core.errors import NotAllowed, UserError
from kangle.drills import access, selectors, services


def _require_staff(user) -> None:
    if not (user.is_superuser or user.scope_paths):
        raise PermissionDenied


@login_required
def homes(request):
    _require_staff(request.user)
    return render(
        request,
        "drills/homes.html",
        {"homes": selectors.homes_for(request.user)[:500], "figures": selectors.figures(request.user)},
    )


@login_required
def drill_detail(request, pk: int):
    drill = access.access_drill(request.user, pk)
    findings = drill.findings.prefetch_related("follow_ups")
    return render(
        request,
        "drills/drill.html",
        {
            "drill": drill,
            "observers": drill.observers.all(),
            "findings": findings,
            "assignments": drill.plan.assignments.select_related("team", "group"),
            "teams": drill.plan.teams.all(),
            "contest": drill.contest_results.all(),
        },
    )


@login_required
@require_POST
def follow_up_done(request, pk: int):
    follow_up = access.access_follow_up(request.user, pk)
    try:
        services.follow_up_done(actor=request.user, follow_up=follow_up)
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from None
    except UserError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Follow-up marked done."))
    return redirect("drills:drill", pk=follow_up.finding.drill_id)
