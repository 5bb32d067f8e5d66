"""The activities sections of the member file (service records) and of the member's phone home."""

from django.db.models import Count, Q, Sum

from kangle.activities.models import CallStatus, RecordStatus, ServiceRecord, SignupStatus, WhistleCall
from kangle.core.timeutil import now


def member_panel(request, member) -> dict:
    records = ServiceRecord.objects.filter(member=member)
    totals = records.aggregate(
        verified=Count("id", filter=Q(status=RecordStatus.VERIFIED)),
        minutes=Sum("minutes", filter=Q(status=RecordStatus.VERIFIED)),
        pending=Count("id", filter=Q(status=RecordStatus.PENDING)),
    )
    return {
        "verified": totals["verified"],
        "hours": round((totals["minutes"] or 0) / 60, 1),
        "pending": totals["pending"],
        "records": list(records.select_related("aspect").order_by("-started_at")[:10]),
    }


def home_panel(request, member) -> dict:
    """The member's phone home: their next activity and an open whistle call for their grid."""
    moment = now()
    next_signup = (
        member.activity_signups.filter(
            status__in=(SignupStatus.CONFIRMED, SignupStatus.WAITLISTED), activity__ends_at__gt=moment
        )
        .select_related("activity")
        .order_by("activity__starts_at")
        .first()
    )
    places = member.org.ancestor_codes()
    # Calls blown at one of the member's units, either for everyone there or aimed at their grid.
    call = (
        WhistleCall.objects.filter(status=CallStatus.OPEN, deadline__gt=moment, org__code__in=places)
        .filter(Q(grids__isnull=True) | Q(grids__code__in=places))
        .order_by("deadline")
        .first()
        if member.status == "approved"
        else None
    )
    return {"signup": next_signup, "call": call}
