"""Workbench pages of the drill register: the care homes with the figures, and one drill."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kangle.accounts.decorators import staff_required
from kangle.core.errors import NotAllowed, UserError
from kangle.drills import access, forms, selectors, services
from kangle.orgs.models import Venue
from kangle.orgs.scope import get_in_scope_or_404


@staff_required
def homes(request):
    return render(
        request,
        "drills/homes.html",
        {
            "homes": selectors.homes_for(request.user).order_by("venue__name", "id")[:500],
            "figures": selectors.figures(request.user),
            "venues": selectors.care_home_venues(request.user)[:500],
        },
    )


@staff_required
@require_POST
def home_save(request):
    """Register a care home in the drill register, or update its residents' mobility counts."""
    try:
        data = forms.CareHomeForm(request.POST).parsed()
        venue = get_in_scope_or_404(request.user, Venue.objects.select_related("org"), pk=data["venue"])
        home = services.care_home_save(
            actor=request.user,
            venue=venue,
            walks=data["walks"],
            needs_help=data["needs_help"],
            wheelchair=data["wheelchair"],
            stretcher=data["stretcher"],
        )
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from None
    except UserError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(name)s saved.") % {"name": home.venue.name})
    return redirect("drills:homes")


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
def drill_act(request, pk: int, action: str):
    """The drill page's two forms: the timings, and a finding with one follow-up action."""
    drill = access.access_drill(request.user, pk)
    try:
        if action == "timings":
            timings = forms.TimingsForm(request.POST).parsed()
            services.drill_set_timings(actor=request.user, drill=drill, **timings)
        elif action == "finding":
            form = forms.FindingForm(request.POST)
            data = form.parsed()
            services.finding_add(
                actor=request.user, drill=drill, text=data["text"], follow_ups=form.follow_ups()
            )
        else:
            raise Http404
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from None
    except UserError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Saved."))
    return redirect("drills:drill", pk=drill.pk)


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
