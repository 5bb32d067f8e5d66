"""The street cockpit (驾驶舱): one page of the figures a street or area admin steers by.

Read-only across the modules (reports may read everything); every figure is one aggregate query over the
person's subtree, so the page costs the same whatever the street's size.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kangle.activities.models import RecordStatus, ServiceRecord
from kangle.cases import selectors as case_selectors
from kangle.cases.models import OPEN_STATUSES, CaseMilestone, MilestoneState
from kangle.core.exports import Sheet
from kangle.core.timeutil import start_of_day, today
from kangle.members.constants import Status
from kangle.members.models import ExpectedCount, Member
from kangle.orgs.scope import scope_queryset
from kangle.points.models import EntryKind, LedgerEntry
from kangle.prevention.models import Warning

TREND_MONTHS = 12


class PeriodForm(forms.Form):
    """A period of whole days; the end may not come before the start (a field error, not a silent swap)."""

    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("To"), required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end of the period is before its start."))
        return data


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return first, last


def default_period(actor) -> tuple[dt.date, dt.date]:
    """This month — or, when nothing was served or recorded in it yet, the latest month that has data."""
    first, last = month_bounds(today())
    records = scope_queryset(actor, ServiceRecord.objects.filter(status=RecordStatus.VERIFIED))
    if records.filter(started_at__gte=start_of_day(first)).exists():
        return first, last
    latest = records.order_by("-started_at").values_list("started_at", flat=True).first()
    if latest is None:
        return first, last
    return month_bounds(timezone.localtime(latest).date())


def period_of(actor, params) -> tuple[PeriodForm, dt.date, dt.date]:
    form = PeriodForm(params or None)
    start, end = default_period(actor)
    if form.is_bound and form.is_valid():
        start = form.cleaned_data.get("start") or start
        end = form.cleaned_data.get("end") or max(end, start)
        if end < start:
            start, end = end, start
    return form, start, end


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def compute(actor, *, start: dt.date, end: dt.date, now: dt.datetime) -> dict:
    since, until = start_of_day(start), start_of_day(end + dt.timedelta(days=1))
    members = scope_queryset(actor, Member.objects.all())
    registered = members.filter(status=Status.APPROVED).count()
    pending = members.filter(status=Status.PENDING).count()
    expected = (
        scope_queryset(actor, ExpectedCount.objects.all()).aggregate(total=Sum("expected"))["total"] or 0
    )
    served = scope_queryset(actor, ServiceRecord.objects.filter(status=RecordStatus.VERIFIED)).filter(
        started_at__gte=since, started_at__lt=until
    )
    service = served.aggregate(minutes=Sum("minutes"), active=Count("member", distinct=True), n=Count("pk"))
    points = (
        scope_queryset(actor, LedgerEntry.objects.filter(kind=EntryKind.AWARD), "org_path")
        .filter(occurred_at__gte=since, occurred_at__lt=until)
        .aggregate(total=Sum("points"))["total"]
        or 0
    )
    open_cases = case_selectors.staff_cases(actor).filter(status__in=OPEN_STATUSES)
    clocks = open_cases.aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=case_selectors.overdue_q(now)),
        warning=Count("pk", filter=case_selectors.warning_q(now)),
        paused=Count("pk", filter=Q(paused_at__isnull=False)),
    )
    clocks["on_track"] = max(0, clocks["total"] - clocks["overdue"] - clocks["warning"] - clocks["paused"])
    settled = scope_queryset(actor, CaseMilestone.objects.all(), "case__org__path").filter(
        case__reported_at__gte=since, case__reported_at__lt=until
    )
    on_time = settled.aggregate(
        met=Count("pk", filter=Q(state=MilestoneState.MET)),
        late=Count("pk", filter=Q(state__in=(MilestoneState.MET_LATE, MilestoneState.BREACHED))),
    )
    cases_reported = (
        case_selectors.staff_cases(actor).filter(reported_at__gte=since, reported_at__lt=until).count()
    )
    trend_start = (today().replace(day=1) - dt.timedelta(days=31 * (TREND_MONTHS - 1))).replace(day=1)
    by_month = dict(
        scope_queryset(actor, Warning.objects.all())
        .filter(occurred_at__gte=start_of_day(trend_start))
        .annotate(month=TruncMonth("occurred_at"))
        .values("month")
        .annotate(n=Count("pk"))
        .values_list("month", "n")
    )
    months, counts, cursor = [], [], trend_start
    by_label = {_month_key(key): value for key, value in by_month.items()}
    for _month in range(TREND_MONTHS):
        months.append(f"{cursor:%Y-%m}")
        counts.append(by_label.get(f"{cursor:%Y-%m}", 0))
        cursor = (cursor + dt.timedelta(days=32)).replace(day=1)
    return {
        "start": start,
        "end": end,
        "registered": registered,
        "pending": pending,
        "expected": expected,
        "coverage": _rate(registered, expected),
        "active_members": service["active"] or 0,
        "records": service["n"] or 0,
        "hours": round((service["minutes"] or 0) / 60, 1),
        "points": points,
        "open_cases": clocks,
        "cases_reported": cases_reported,
        "on_time_rate": _rate(on_time["met"], on_time["met"] + on_time["late"]),
        "milestones_settled": on_time["met"] + on_time["late"],
        "warnings": {"months": months, "counts": counts, "total": sum(counts)},
    }


def _month_key(value) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value:%Y-%m}"


def export_sheets(data: dict) -> list[Sheet]:
    """The cockpit's figures as sheets for the export gate (``core.exports``)."""
    clocks = data["open_cases"]
    rows = [
        ("统计期间 / period", f"{data['start']:%Y-%m-%d} – {data['end']:%Y-%m-%d}"),
        ("已报到党员 / registered members", data["registered"]),
        ("待审核报到 / registrations waiting", data["pending"]),
        ("应报到底数 / expected members", data["expected"]),
        ("报到率 % / registration coverage %", data["coverage"] if data["coverage"] is not None else "—"),
        ("活跃党员 / active members", data["active_members"]),
        ("服务时长（小时） / service hours", data["hours"]),
        ("积分 / points awarded", data["points"]),
        ("受理案件 / cases reported", data["cases_reported"]),
        ("在办案件 / open cases", clocks["total"]),
        ("已超时 / past deadline", clocks["overdue"]),
        ("即将到期 / due soon", clocks["warning"]),
        ("暂停 / paused", clocks["paused"]),
        ("正常 / on track", clocks["on_track"]),
        ("按时率 % / on-time rate %", data["on_time_rate"] if data["on_time_rate"] is not None else "—"),
    ]
    trend = list(zip(data["warnings"]["months"], data["warnings"]["counts"], strict=True))
    return [
        Sheet("驾驶舱", ["指标 / figure", "数值 / value"], rows),
        Sheet("预警趋势", ["月份 / month", "预警 / warnings"], trend),
    ]
