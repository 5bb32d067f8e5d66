"""Reads of activities, calls and service records reused by pages, the API and reports."""

from __future__ import annotations

import datetime as dt

from django.db.models import Avg, Count, F, Max, Q, QuerySet, Sum

from kangle.activities.models import (
    Activity,
    ActivityStatus,
    Attendance,
    CallStatus,
    RecordStatus,
    ServiceRecord,
    Signup,
    WhistleCall,
    WhistleResponse,
)
from kangle.core.rawrows import Prepared
from kangle.members.constants import Status
from kangle.members.models import Member
from kangle.members.selectors import files_in
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.scope import scope_queryset
from kangle.orgs.selectors import paths_q, subtree_q


def activities_for(actor) -> QuerySet[Activity]:
    return scope_queryset(actor, Activity.objects.all()).select_related("org", "aspect", "venue")


def _reach_q(member: Member, field: str = "org__path"):
    """Units a member reaches: their community, the units above it, and units inside it."""
    codes = [c for c in member.community.path.split("/") if c]
    above = ["/" + "/".join(codes[:i]) + "/" for i in range(1, len(codes) + 1)]
    return Q(**{f"{field}__in": above}) | subtree_q(member.community.path, field)


def activities_for_member(member: Member) -> QuerySet[Activity]:
    return (
        Activity.objects.filter(_reach_q(member), status=ActivityStatus.OPEN)
        .select_related("org", "aspect", "venue")
        .order_by("starts_at", "id")
    )


def scanning_member(actor) -> Member | None:
    """The member file of a person scanning a code or signing up on their phone (the same file as
    ``members.selectors.own_file``), read without its personal data: nothing is decrypted on the check-in
    path, which sees bursts at the start of an activity. None for an anonymous actor or one without a
    file; the caller checks the status."""
    if not getattr(actor, "is_authenticated", False):
        return None
    return _SCANNING_MEMBER.first(actor.pk)


# Compiled once per process (core.rawrows.Prepared): the check-in path runs them on every scan of a burst.
_SCANNING_MEMBER = Prepared(
    lambda user_id: (
        Member.objects.filter(user_id=user_id)
        .select_related("community")
        .only("pk", "name", "status", "user_id", "community_id", "community__path")
        .order_by(F("left_at").desc(nulls_first=True), "-registered_at")[:1]
    )
)
_ACTIVITY_FOR_SCAN = Prepared(
    lambda pk: (
        Activity.objects.select_related("org")
        .only(
            "pk", "title", "status", "starts_at", "ends_at", "qr_secret", "org_id", "org__path", "org__code"
        )
        .filter(pk=pk)[:1]
    )
)


_ATTENDANCE_OF = Prepared(
    lambda activity_id, member_id: Attendance.objects.filter(activity_id=activity_id, member_id=member_id),
    parameters=2,
)


def activity_for_scan(pk: int) -> Activity | None:
    """The fields a QR check-in needs of an activity, with its organiser's path (one indexed read)."""
    return _ACTIVITY_FOR_SCAN.first(pk)


def attendance_of(activity_id: int, member_id: int) -> Attendance | None:
    """A member's attendance at an activity (what a repeat scan answers with), or None."""
    return _ATTENDANCE_OF.first(activity_id, member_id)


def matching_members(call: WhistleCall, grids=None, skills=None) -> QuerySet[Member]:
    """Approved members the call asks: living in its grids (or anywhere under its unit), with a skill it
    names."""
    grids = list(call.grids.all()) if grids is None else grids
    skills = list(call.skills.all()) if skills is None else skills
    if grids:
        rows = Member.objects.filter(paths_q([g.path for g in grids], "org__path"))
    elif call.org.kind in (OrgKind.DISTRICT, OrgKind.STREET, OrgKind.AREA, OrgKind.COMMUNITY):
        rows = files_in(call.org.path)
    else:
        rows = Member.objects.filter(subtree_q(call.org.path, "org__path"))
    rows = rows.filter(status=Status.APPROVED)
    if skills:
        rows = rows.filter(pk__in=Member.skills.through.objects.filter(skill__in=skills).values("member_id"))
    return rows


def calls_for(actor) -> QuerySet[WhistleCall]:
    return scope_queryset(actor, WhistleCall.objects.all()).select_related("org", "created_by")


def asking_grids_q(grids) -> Q:
    """Calls that ask these grids: targeted at them, or blown by a grid or a unit above it without narrowing
    to grids (a call with no ``grids`` asks the whole of its ``org``)."""
    above = {code for grid in grids for code in grid.ancestor_codes()}
    return Q(grids__in=grids) | Q(grids__isnull=True, org__code__in=above)


def calls_for_member(member: Member) -> QuerySet[WhistleCall]:
    return WhistleCall.objects.filter(_reach_q(member)).select_related("org").order_by("-created_at", "-id")


def _party_org_reach_q(party_org):
    """Units where members of this organisation live, the units above them, and the units inside them."""
    communities = (
        Member.objects.filter(party_org=party_org).values_list("community__path", flat=True).distinct()
    )
    query = Q(pk__in=[])
    for path in set(communities):
        codes = [c for c in path.split("/") if c]
        query |= Q(org__path__in=["/" + "/".join(codes[:i]) + "/" for i in range(1, len(codes) + 1)])
        query |= subtree_q(path, "org__path")
    return query


def calls_for_party_org(party_org) -> QuerySet[WhistleCall]:
    """Calls where members of this organisation live (they could answer collectively)."""
    return (
        WhistleCall.objects.filter(_party_org_reach_q(party_org))
        .select_related("org")
        .order_by("-created_at", "-id")
    )


def activities_for_party_org(party_org) -> QuerySet[Activity]:
    """Open activities its members may join (the organisation may sign up a team)."""
    return (
        Activity.objects.filter(_party_org_reach_q(party_org), status=ActivityStatus.OPEN)
        .select_related("org", "aspect")
        .order_by("starts_at", "id")
    )


def records_for(actor) -> QuerySet[ServiceRecord]:
    return scope_queryset(actor, ServiceRecord.objects.all()).select_related(
        "member", "aspect", "org", "activity"
    )


def signups_of(activity: Activity) -> QuerySet[Signup]:
    return activity.signups.select_related("member", "party_org").order_by("created_at", "id")


def response_times(call: WhistleCall) -> dict:
    row = call.responses.aggregate(avg=Avg("response_seconds"), last=Max("response_seconds"), n=Count("id"))
    first = call.responses.order_by("response_seconds").values_list("response_seconds", flat=True).first()
    return {
        "count": row["n"],
        "first_seconds": first,
        "average_seconds": round(row["avg"]) if row["avg"] else None,
        "last_seconds": row["last"],
    }


def figures(unit: OrgUnit, start: dt.datetime, end: dt.datetime) -> dict:
    """活动场次, 参与人次 (people checked in), 惠及群众人次 (beneficiary counts), verified hours and whistle
    calls under ``unit`` for activities starting in [start, end) — by aspect, from five GROUP BY queries."""
    activities = Activity.objects.filter(
        subtree_q(unit.path, "org__path"), starts_at__gte=start, starts_at__lt=end
    ).exclude(status=ActivityStatus.CANCELLED)
    aspects: dict[str, dict] = {}

    def row(code, name):
        return aspects.setdefault(
            code,
            {
                "aspect": code,
                "name": name,
                "activities": 0,
                "participants": 0,
                "beneficiaries": 0,
                "hours": 0.0,
            },
        )

    for code, name, n, beneficiaries in (
        activities.values_list("aspect__code", "aspect__name")
        .annotate(n=Count("id"), b=Sum("beneficiary_count"))
        .order_by()
    ):
        item = row(code, name)
        item["activities"] = n
        item["beneficiaries"] = beneficiaries or 0
    for code, name, n in (
        Attendance.objects.filter(activity__in=activities)
        .values_list("activity__aspect__code", "activity__aspect__name")
        .annotate(n=Count("id"))
        .order_by()
    ):
        row(code, name)["participants"] = n
    for code, name, minutes in (
        ServiceRecord.objects.filter(
            subtree_q(unit.path, "org__path"),
            status=RecordStatus.VERIFIED,
            started_at__gte=start,
            started_at__lt=end,
        )
        .values_list("aspect__code", "aspect__name")
        .annotate(m=Sum("minutes"))
        .order_by()
    ):
        row(code, name)["hours"] = round((minutes or 0) / 60, 1)
    calls = WhistleCall.objects.filter(
        subtree_q(unit.path, "org__path"), created_at__gte=start, created_at__lt=end
    )
    call_row = calls.aggregate(n=Count("id"), closed=Count("id", filter=None))
    call_row["closed"] = calls.filter(status=CallStatus.CLOSED).count()
    responses = WhistleResponse.objects.filter(call__in=calls).aggregate(
        n=Count("id"), avg=Avg("response_seconds")
    )
    by_aspect = sorted(aspects.values(), key=lambda r: r["aspect"])
    return {
        "unit": {"code": unit.code, "name": unit.name},
        "start": start.isoformat(),
        "end": end.isoformat(),
        "activities": sum(r["activities"] for r in by_aspect),
        "participants": sum(r["participants"] for r in by_aspect),
        "beneficiaries": sum(r["beneficiaries"] for r in by_aspect),
        "hours": round(sum(r["hours"] for r in by_aspect), 1),
        "calls": call_row["n"],
        "calls_closed": call_row["closed"],
        "call_responses": responses["n"],
        "average_response_minutes": round(responses["avg"] / 60, 1) if responses["avg"] else None,
        "by_aspect": by_aspect,
    }
