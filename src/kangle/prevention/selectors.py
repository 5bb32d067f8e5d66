"""Reads shared by pages and the API: lists with their counts in SQL, campaign progress and summary."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from kangle.cases.models import CaseStatus
from kangle.orgs.models import EstateType
from kangle.prevention.models import (
    Campaign,
    CampaignUnit,
    Finding,
    InspectionRound,
    MonitoringPoint,
    PointStatus,
    Reading,
)


def campaigns_with_progress(queryset: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """Each campaign with its unit and inspected counts (for the progress bar) in the same query."""
    return queryset.select_related("org", "contractor").annotate(
        unit_total=Count("units", distinct=True),
        unit_done=Count("units", filter=Q(units__inspected_at__isnull=False), distinct=True),
    )


def campaign_summary(campaign: Campaign) -> dict:
    units = CampaignUnit.objects.filter(campaign=campaign)
    counts = units.aggregate(
        total=Count("id"),
        inspected=Count("id", filter=Q(inspected_at__isnull=False)),
        estates=Count("id", filter=Q(unit__estate_type=EstateType.ESTATE)),
        estates_done=Count("id", filter=Q(unit__estate_type=EstateType.ESTATE, inspected_at__isnull=False)),
        lanes=Count("id", filter=Q(unit__estate_type=EstateType.LANE)),
        lanes_done=Count("id", filter=Q(unit__estate_type=EstateType.LANE, inspected_at__isnull=False)),
    )
    findings = Finding.objects.filter(campaign_unit__campaign=campaign).aggregate(
        findings=Count("id"),
        nests=Count("id", filter=Q(nest_found=True)),
        treated=Count("id", filter=Q(treated_on_spot=True)),
        cases_closed=Count("id", filter=Q(case__status=CaseStatus.CLOSED)),
    )
    total = counts["total"] or 0
    pct = round(counts["inspected"] * 100 / total) if total else 0
    summary = {**counts, **findings, "pct": pct}
    summary["text"] = (
        f"{campaign.name}：共排查小区{counts['estates_done']}个、弄{counts['lanes_done']}条"
        f"（计划小区{counts['estates']}个、弄{counts['lanes']}条，完成{pct}%），"
        f"发现白蚁巢{findings['nests']}处，现场处置{findings['treated']}处。"
    )
    return summary


def campaign_units(campaign: Campaign) -> QuerySet[CampaignUnit]:
    return (
        CampaignUnit.objects.filter(campaign=campaign)
        .select_related("unit", "inspected_by")
        .annotate(
            finding_count=Count("findings", distinct=True),
            nest_count=Count("findings", filter=Q(findings__nest_found=True), distinct=True),
        )
        .order_by("inspected_at", "unit__path")
    )


def points_with_last_reading(queryset: QuerySet[MonitoringPoint]) -> QuerySet[MonitoringPoint]:
    positive = Reading.objects.filter(point=OuterRef("pk"), activity_found=True)
    return queryset.select_related("org").annotate(
        reading_count=Count("readings"), has_positive=Exists(positive)
    )


def rounds_with_counts(queryset: QuerySet[InspectionRound]) -> QuerySet[InspectionRound]:
    return queryset.select_related("org").annotate(
        reading_count=Count("readings", distinct=True),
        positive_count=Count("readings", filter=Q(readings__activity_found=True), distinct=True),
    )


def round_points(inspection_round: InspectionRound) -> list[tuple[MonitoringPoint, Reading | None]]:
    """The active points the round covers, each with its reading on this round (two queries)."""
    from kangle.orgs.selectors import subtree_q

    readings = {
        reading.point_id: reading
        for reading in Reading.objects.filter(round=inspection_round).select_related("warning")
    }
    points = MonitoringPoint.objects.filter(subtree_q(inspection_round.org.path, "org__path")).select_related(
        "org"
    )
    points = points.filter(Q(status=PointStatus.ACTIVE) | Q(pk__in=list(readings)))
    return [(point, readings.get(point.pk)) for point in points.order_by("code")]
