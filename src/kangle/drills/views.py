"""Workbench pages of the drill register: the care homes with the figures, and one drill."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
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


def _local(value: str, field: str):
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"invalid_{field}", gettext_lazy("Malformed time"), field=field) from None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _day(value: str, field: str):
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"invalid_{field}", gettext_lazy("A date must be YYYY-MM-DD"), field=field) from None


@login_required
@require_POST
def drill_act(request, pk: int, action: str):
    """The drill page's two forms: the timings, and a finding with one follow-up action."""
    drill = access.access_drill(request.user, pk)
    post = request.POST
    try:
        if action == "timings":
            services.drill_set_timings(
                actor=request.user,
                drill=drill,
                **{field: _local(post.get(field, ""), field) for field, _name in services.TIMINGS},
            )
        elif action == "finding":
            follow_ups = []
            if post.get("action", "").strip():
                follow_ups.append(
                    (post["action"], post.get("owner", ""), _day(post.get("due_on", ""), "due_on"))
                )
            services.finding_add(
                actor=request.user, drill=drill, text=post.get("text", ""), follow_ups=follow_ups
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
