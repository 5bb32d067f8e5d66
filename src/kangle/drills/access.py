"""Turning an id from a request into a drill-register object: 404 outside the actor's subtree."""

from __future__ import annotations

from django.http import Http404

from kangle.drills.models import CareHome, Drill, DrillPlan, FollowUp, ResidentGroup
from kangle.orgs.scope import scope_queryset


def _one(queryset, pk):
    try:
        found = queryset.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise Http404
    return found


def access_home(actor, pk) -> CareHome:
    return _one(scope_queryset(actor, CareHome.objects.select_related("venue__org"), "org_path"), pk)


def access_group(actor, pk) -> ResidentGroup:
    return _one(scope_queryset(actor, ResidentGroup.objects.select_related("home"), "home__org_path"), pk)


def access_plan(actor, pk) -> DrillPlan:
    return _one(scope_queryset(actor, DrillPlan.objects.select_related("home__venue"), "home__org_path"), pk)


def access_drill(actor, pk) -> Drill:
    return _one(
        scope_queryset(actor, Drill.objects.select_related("home__venue", "plan"), "home__org_path"), pk
    )


def access_follow_up(actor, pk) -> FollowUp:
    return _one(scope_queryset(actor, FollowUp.objects.select_related("finding__drill"), "org_path"), pk)
