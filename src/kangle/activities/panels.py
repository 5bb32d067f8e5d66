"""The service-history section of the member file: the member's service records."""

from django.db.models import Count, Q, Sum

from kangle.activities.models import RecordStatus, ServiceRecord


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
