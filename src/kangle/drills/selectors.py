"""The drill register's figures, aggregated in SQL over the homes in the viewer's scope."""

from __future__ import annotations

from django.db.models import Count, Q
from django.db.models.functions import ExtractYear

from kangle.core.timeutil import today
from kangle.drills.models import CareHome, Drill, FollowUp
from kangle.orgs.models import Venue, VenueKind
from kangle.orgs.scope import scope_queryset


def homes_for(actor):
    return scope_queryset(actor, CareHome.objects.select_related("venue__org"), "org_path").annotate(
        drill_count=Count("drills", distinct=True)
    )


def figures(actor) -> dict:
    drills = scope_queryset(actor, Drill.objects.all(), "home__org_path")
    per_home_year = [
        {"home": row["home__venue__name"], "year": row["year"], "drills": row["n"]}
        for row in drills.annotate(year=ExtractYear("held_on"))
        .values("home__venue__name", "year")
        .annotate(n=Count("id"))
        .order_by("home__venue__name", "year")
    ]
    trend = [
        {
            "held_on": drill.held_on.isoformat(),
            "home": drill.home.venue.name,
            "evacuation_seconds": drill.evacuation_seconds,
        }
        for drill in drills.filter(alarm_at__isnull=False, last_out_at__isnull=False)
        .select_related("home__venue")
        .order_by("held_on", "id")[:500]
    ]
    follow_ups = scope_queryset(actor, FollowUp.objects.all(), "org_path").aggregate(
        open=Count("id", filter=Q(done_at__isnull=True)),
        overdue=Count("id", filter=Q(done_at__isnull=True, due_on__lt=today())),
    )
    return {
        "drills_per_home_per_year": per_home_year,
        "evacuation_trend": trend,
        "open_follow_ups": follow_ups["open"],
        "overdue_follow_ups": follow_ups["overdue"],
    }


def care_home_venues(actor):
    """Care-home venues the actor may keep in the register (to register one or update its counts)."""
    return scope_queryset(
        actor, Venue.objects.filter(kind=VenueKind.CARE_HOME).select_related("org"), "org__path"
    ).order_by("name", "id")
