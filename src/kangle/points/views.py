"""Pages: the member's points, benefits and bookings (phone), and rankings (workbench)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kangle.accounts.decorators import staff_required
from kangle.core.errors import UserError
from kangle.core.exports import Sheet, export_workbook, xlsx_response
from kangle.core.roles import Role
from kangle.core.timeutil import now as current_time
from kangle.members.models import HouseholdMember
from kangle.members.selectors import own_file
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.scope import scope_queryset
from kangle.points import permissions, selectors, services
from kangle.points.forms import HouseholdForm, RuleVersionForm, VisibilityForm, form_errors_text
from kangle.points.models import Benefit, BenefitKind, Booking, Slot


def _my_file(request):
    member = own_file(request.user)
    if member is None:
        raise Http404
    return member


@login_required
def me(request):
    """积分: balance, then every entry with the rule version and the table cell that gave it."""
    member = _my_file(request)
    entries = list(selectors.history(member)[:100])
    for entry in entries:
        if entry.rule is not None and entry.duration_minutes:
            entry.band_label = entry.rule.band_labels()[entry.rule.band_of(entry.duration_minutes) - 1]
    balance = selectors.cached_balance(member)
    hidden = bool(getattr(getattr(member, "points_balance", None), "hide_from_rankings", False))
    return render(
        request,
        "points/me.html",
        {"member": member, "entries": entries, "balance": balance, "hidden": hidden},
    )


@login_required
@require_POST
def visibility(request):
    member = _my_file(request)
    form = VisibilityForm(request.POST)
    form.is_valid()  # a single checkbox: anything but a true value means "not hidden"
    services.ranking_visibility_set(
        actor=request.user, member=member, hidden=bool(form.cleaned_data.get("hidden"))
    )
    messages.success(request, _("Saved."))
    return redirect("points:me")


@login_required
def benefits(request):
    member = _my_file(request)
    moment = current_time()
    rows = list(selectors.benefits_for(member, moment))
    slots = {}
    for slot in Slot.objects.filter(
        benefit__in=[b for b in rows if b.kind == BenefitKind.RESOURCE], starts_at__gt=moment
    ).order_by("starts_at"):
        slots.setdefault(slot.benefit_id, []).append(slot)
    for benefit in rows:
        benefit.open_slots = slots.get(benefit.pk, [])[:10]
    return render(
        request,
        "points/benefits.html",
        {
            "member": member,
            "benefits": rows,
            "balance": selectors.cached_balance(member),
            "household": list(HouseholdMember.objects.filter(member=member)),
            "bookings": list(selectors.bookings_of(member)[:20]),
            "passes": list(member.priority_passes.select_related("benefit", "household_member")[:20]),
        },
    )


def _household_from(request, member):
    form = HouseholdForm(request.POST)
    chosen = form.cleaned_data.get("household_member") if form.is_valid() else 0
    if chosen is None:
        return None
    household = HouseholdMember.objects.filter(pk=chosen or 0, member=member).first()
    if household is None:
        raise UserError(
            "not_household", gettext_lazy("Not one of your household members"), field="household_member"
        )
    return household


@login_required
@require_POST
def book(request, slot_id: int):
    member = _my_file(request)
    slot = Slot.objects.select_related("benefit__org").filter(pk=slot_id).first()
    if slot is None or not member.community.path.startswith(slot.benefit.org.path):
        raise Http404
    try:
        services.booking_create(
            actor=request.user, slot=slot, member=member, household_member=_household_from(request, member)
        )
        messages.success(request, _("Booked."))
    except UserError as exc:
        messages.error(request, str(exc))
    return redirect("points:benefits")


@login_required
@require_POST
def cancel(request, booking_id: int):
    member = _my_file(request)
    booking = Booking.objects.filter(pk=booking_id, member=member).first()
    if booking is None:
        raise Http404
    try:
        services.booking_cancel(actor=request.user, booking=booking)
        messages.success(request, _("Booking cancelled."))
    except UserError as exc:
        messages.error(request, str(exc))
    return redirect("points:benefits")


@login_required
@require_POST
def take_pass(request, benefit_id: int):
    member = _my_file(request)
    benefit = Benefit.objects.select_related("org").filter(pk=benefit_id).first()
    if benefit is None or not member.community.path.startswith(benefit.org.path):
        raise Http404
    try:
        issued = services.pass_issue(
            actor=request.user,
            benefit=benefit,
            member=member,
            household_member=_household_from(request, member),
        )
        messages.success(request, _("Your pass code is %(code)s.") % {"code": issued.code})
    except UserError as exc:
        messages.error(request, str(exc))
    return redirect("points:benefits")


@staff_required
def rankings(request):
    """Workbench: a ranking for a community or grid in the actor's scope, for a period."""
    units = list(
        scope_queryset(
            request.user,
            OrgUnit.objects.filter(kind__in=(OrgKind.COMMUNITY, OrgKind.GRID)),
            path_field="path",
        ).order_by("path")[:300]
    )
    code = request.GET.get("unit") or (units[0].code if units else "")
    today = timezone.localdate()
    try:
        start = dt.date.fromisoformat(request.GET.get("start") or today.replace(day=1).isoformat())
        end = dt.date.fromisoformat(request.GET.get("end") or today.isoformat())
    except ValueError:
        start, end = today.replace(day=1), today
        messages.error(request, _("Dates must look like 2026-01-31."))
    unit = next((u for u in units if u.code == code), None)
    if code and unit is None:
        raise Http404

    def ranked(first: dt.date, last: dt.date) -> list:
        if unit is None:
            return []
        return selectors.ranking(
            actor=request.user,
            dimension="community" if unit.kind == OrgKind.COMMUNITY else "grid",
            unit_id=unit.pk,
            start=timezone.make_aware(dt.datetime.combine(first, dt.time.min)),
            end=timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min)),
            limit=50,
            public=False,
        )

    rows = ranked(start, end)
    if not rows and not request.GET.get("start") and not request.GET.get("end"):
        # The default period shows data: this month, else the last 12 months.
        start = end - dt.timedelta(days=365)
        rows = ranked(start, end)
    if request.GET.get("format") == "xlsx" and unit is not None:
        return _rankings_xlsx(request, unit, rows, start, end)
    return render(
        request,
        "points/rankings.html",
        {"units": units, "unit": unit, "rows": rows, "start": start, "end": end},
    )


def _rankings_xlsx(request, unit, rows, start: dt.date, end: dt.date) -> HttpResponse:
    content = export_workbook(
        actor=request.user,
        verb="ranking.export",
        sheets=[
            Sheet(
                "积分排行",
                ["名次 / rank", "党员 / member", "积分 / points"],
                ([row["rank"], row["name"], row["points"]] for row in rows),
                preamble=[[f"{unit.name} {start:%Y-%m-%d} – {end:%Y-%m-%d}"]],
            )
        ],
        org_path=unit.path,
        object_type="orgs.orgunit",
        details={"unit": unit.code, "start": str(start), "end": str(end), "rows": len(rows)},
    )
    return xlsx_response(content, f"rankings-{unit.code}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx")


@login_required
def rules(request):
    """Workbench: the street's rule versions, each table shown; street admins add a version."""
    from kangle.orgs.scope import in_scope
    from kangle.points.models import PointsRule

    streets = [OrgUnit.objects.get(pk=pk) for pk in request.user.units_for("street_admin")]
    if not streets:
        paths = request.user.scope_paths
        mine = own_file(request.user)
        candidates = OrgUnit.objects.filter(kind=OrgKind.STREET)
        streets = [
            s
            for s in candidates
            if any(p.startswith(s.path) for p in paths)
            or (mine is not None and mine.community.path.startswith(s.path))
        ]
    if not streets:
        raise Http404
    street = streets[0]
    can_edit = permissions.can_edit_rules(request.user, street) and in_scope(request.user, street.path)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = RuleVersionForm(request.POST)
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
            return redirect("points:rules")
        try:
            services.rule_create(actor=request.user, street=street, **form.rule_arguments())
            messages.success(request, _("New rule version saved."))
        except UserError as exc:
            messages.error(request, str(exc))
        return redirect("points:rules")
    versions = list(PointsRule.objects.filter(org=street).order_by("-effective_from"))
    latest = versions[0] if versions else None
    return render(
        request,
        "points/rules.html",
        {
            "perms_adjust": request.user.is_superuser or request.user.has_role(Role.STREET_ADMIN),
            "street": street,
            "versions": versions,
            "can_edit": can_edit,
            "latest": latest,
            "rows": [(d, ",".join(str(v) for v in latest.table[d - 1])) for d in range(1, 6)]
            if latest
            else [],
        },
    )
