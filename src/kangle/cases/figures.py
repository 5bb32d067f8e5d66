"""Figures of 民情快办 for a period, aggregated in SQL over the cases in the viewer's scope.

Definitions (also shown on the page):
- on-time rate of a milestone: milestones met on time / milestones decided (met on time, met late, or
  breached and still open); running and paused clocks are not counted yet.
- 响应率 response rate: share of cases (not cancelled) whose first milestone was met on time.
- 解决率 resolution rate: share of cases (not cancelled) that are closed.
- 满意率 satisfaction rate: share of feedback that says "satisfied".
- 返工 rework: cases reopened at least once, cases reopened more than once (repeated rework) and the
  reopenings in all; the rework clocks' on-time rate is a row of the milestone table.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from kangle.cases.models import Case, CaseMilestone, CaseStatus, Feedback, MilestoneState
from kangle.core.exports import Sheet, export_workbook
from kangle.core.timeutil import default_period, local, start_of_day
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.scope import scope_queryset

DECIDED = [MilestoneState.MET, MilestoneState.MET_LATE, MilestoneState.BREACHED]


def period_from(params) -> tuple[dt.date, dt.date]:
    start, end = default_period()
    try:
        if params.get("start"):
            start = dt.date.fromisoformat(params["start"])
        if params.get("end"):
            end = dt.date.fromisoformat(params["end"])
    except ValueError:
        pass
    if start > end:
        start, end = end, start
    return start, end


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _cases(actor, start: dt.date, end: dt.date):
    return scope_queryset(actor, Case.objects.all()).filter(
        reported_at__gte=start_of_day(start), reported_at__lt=start_of_day(end + dt.timedelta(days=1))
    )


def _on_time(rows, key: str) -> list[dict]:
    out = []
    for row in rows:
        out.append(
            {
                "key": row[key],
                "decided": row["decided"],
                "on_time": row["on_time"],
                "rate": _rate(row["on_time"], row["decided"]),
            }
        )
    return out


def compute(actor, *, start: dt.date, end: dt.date) -> dict:
    cases = _cases(actor, start, end)
    clocks = CaseMilestone.objects.filter(case__in=cases.values("pk"), state__in=DECIDED)
    counts = {"decided": Count("id"), "on_time": Count("id", filter=Q(state=MilestoneState.MET))}
    by_milestone = _on_time(
        clocks.values("milestone__name").annotate(**counts).order_by("milestone__name"), "milestone__name"
    )
    by_category = _on_time(
        clocks.values("case__category__name").annotate(**counts).order_by("case__category__name"),
        "case__category__name",
    )
    contractor_rows = (
        clocks.values("case__contractor__name").annotate(**counts).order_by("case__contractor__name")
    )
    by_contractor = [row for row in _on_time(contractor_rows, "case__contractor__name") if row["key"]]
    by_community = _by_community(clocks.values("case__org__path").annotate(**counts))

    live = cases.exclude(status=CaseStatus.CANCELLED)
    totals = live.aggregate(
        total=Count("id"),
        closed=Count("id", filter=Q(status=CaseStatus.CLOSED)),
        reworked=Count("id", filter=Q(rework_count__gte=1)),
        reworked_repeatedly=Count("id", filter=Q(rework_count__gte=2)),
        reworks=Sum("rework_count"),
    )
    first_order = CaseMilestone.objects.filter(case__in=live.values("pk")).aggregate(
        first=Min("milestone__order")
    )
    responded = CaseMilestone.objects.filter(
        case__in=live.values("pk"), milestone__order=first_order["first"] or 0, state=MilestoneState.MET
    ).count()
    feedback = Feedback.objects.filter(case__in=cases.values("pk")).aggregate(
        total=Count("id"), satisfied=Count("id", filter=Q(satisfied=True))
    )
    return {
        "cases": cases.count(),
        "cancelled": cases.filter(status=CaseStatus.CANCELLED).count(),
        "open": live.exclude(status=CaseStatus.CLOSED).count(),
        "closed": totals["closed"],
        "response_rate": _rate(responded, totals["total"]),
        "resolution_rate": _rate(totals["closed"], totals["total"]),
        "satisfaction_rate": _rate(feedback["satisfied"], feedback["total"]),
        "feedback": feedback["total"],
        "reworked": totals["reworked"],
        "reworked_repeatedly": totals["reworked_repeatedly"],
        "reworks": totals["reworks"] or 0,
        "by_milestone": by_milestone,
        "by_category": by_category,
        "by_contractor": by_contractor,
        "by_community": by_community,
    }


def _by_community(rows) -> list[dict]:
    """Fold per-place counts (a GROUP BY over org paths) into their communities."""
    rows = list(rows)
    codes = {code for row in rows for code in row["case__org__path"].split("/") if code}
    names = dict(OrgUnit.objects.filter(code__in=codes, kind=OrgKind.COMMUNITY).values_list("code", "name"))
    folded: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        community = next((code for code in row["case__org__path"].split("/") if code in names), None)
        label = names.get(community, "—")
        folded[label][0] += row["decided"]
        folded[label][1] += row["on_time"]
    return [
        {"key": key, "decided": d, "on_time": o, "rate": _rate(o, d)}
        for key, (d, o) in sorted(folded.items())
    ]


def export_xlsx(actor, *, start: dt.date, end: dt.date) -> bytes:
    """The figures as a workbook, through the export gate (formula prefixes neutralised, audited)."""
    data = compute(actor, start=start, end=end)
    sheets = [
        _summary_sheet(data, start=start, end=end),
        *_rate_sheets(data),
        _case_listing_sheet(actor, start=start, end=end),
    ]
    scope = actor.scope_paths if not actor.is_superuser else []
    return export_workbook(
        actor=actor,
        verb="case_figures.export",
        object_type="cases.case",
        org_path=scope[0] if len(scope) == 1 else "",
        sheets=sheets,
        details={"start": start.isoformat(), "end": end.isoformat(), "scope": list(scope)},
    )


def _summary_sheet(data: dict, *, start: dt.date, end: dt.date) -> Sheet:
    """The headline counts and rates of the period, one per row."""
    summary = [
        [label, data[key]]
        for label, key in [
            ("案件数 Cases", "cases"),
            ("已结案 Closed", "closed"),
            ("办理中 Open", "open"),
            ("已撤销 Cancelled", "cancelled"),
            ("响应率 Response rate (%)", "response_rate"),
            ("解决率 Resolution rate (%)", "resolution_rate"),
            ("满意率 Satisfaction rate (%)", "satisfaction_rate"),
            ("评价数 Feedback", "feedback"),
            ("返工案件 Cases reworked", "reworked"),
            ("多次返工 Cases reworked more than once", "reworked_repeatedly"),
            ("返工次数 Reworks", "reworks"),
        ]
    ]
    return Sheet(
        "汇总 Summary",
        preamble=[["民情快办统计 / Case figures", f"{start:%Y-%m-%d} – {end:%Y-%m-%d}"]],
        rows=summary,
    )


def _rate_sheets(data: dict) -> list[Sheet]:
    """One sheet of on-time rates per breakdown (milestone, category, contractor, community)."""
    return [
        Sheet(
            title,
            ["名称 Name", "已判定 Decided", "按时 On time", "按时率 On-time rate (%)"],
            [[row["key"], row["decided"], row["on_time"], row["rate"]] for row in data[key]],
        )
        for title, key in [
            ("按节点 Milestone", "by_milestone"),
            ("按类别 Category", "by_category"),
            ("按专业组织 Contractor", "by_contractor"),
            ("按居民区 Community", "by_community"),
        ]
    ]


def _case_listing_sheet(actor, *, start: dt.date, end: dt.date) -> Sheet:
    """The period's cases one per row (at most 50,000, oldest first), phone numbers masked."""
    rows = (
        _cases(actor, start, end)
        .select_related("category", "org", "contractor")
        .order_by("reported_at")[:50000]
    )
    listing = (
        [
            case.number,
            case.category.name,
            case.org.name,
            str(CaseStatus(case.status).label),
            timezone.make_naive(local(case.reported_at)),
            timezone.make_naive(local(case.closed_at)) if case.closed_at else None,
            case.contractor.name if case.contractor else "",
            case.masked_phone,
        ]
        for case in rows
    )
    return Sheet(
        "案件 Cases",
        [
            "案件号 Number",
            "类别 Category",
            "地点 Place",
            "状态 Status",
            "报事时间 Reported",
            "结案时间 Closed",
            "专业组织 Contractor",
            "手机 Phone (masked)",
        ],
        listing,
    )
