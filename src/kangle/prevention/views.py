"""Prevention pages: the staff workbench (analysis with charts, points, rounds, warnings, campaigns) and the
inspectors' phone pages (readings on a round, findings on a campaign). Each view parses input, calls one
service or selector, renders; errors come back as messages on the same page."""

from __future__ import annotations

import datetime as dt
import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kangle.cases.models import Case, Contractor
from kangle.core.errors import NotAllowed, UserError
from kangle.core.exports import Sheet, export_workbook, xlsx_response
from kangle.core.timeutil import default_period, local, today
from kangle.core.uploads import validate_image, validate_images
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.scope import get_in_scope_or_404, scope_queryset
from kangle.prevention import analysis, forms, lookups, permissions, selectors, services, spraying
from kangle.prevention.export import analysis_workbook
from kangle.prevention.models import (
    Campaign,
    CampaignStatus,
    Finding,
    InspectionRound,
    MonitoringPoint,
    PlaceType,
    TeamRole,
    Warning,
)

PAGE_SIZE = 50


def guarded(view):
    """Login required; a wrong role is a 403 page, other bad input a 400 with the message."""

    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotAllowed as error:
            raise PermissionDenied(str(error)) from None
        except UserError as error:
            return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")

    return wrapper


def _default_period() -> tuple[dt.date, dt.date]:
    return default_period()


def _analysis_units(user) -> list[OrgUnit]:
    """The nodes offered in the analysis picker: the user's streets, areas and communities."""
    kinds = [OrgKind.DISTRICT, OrgKind.STREET, OrgKind.AREA, OrgKind.COMMUNITY]
    units = scope_queryset(user, OrgUnit.objects.filter(kind__in=kinds), path_field="path")
    return list(units.order_by("path")[:300])


def _analysis_request(request):
    lookups.require_workbench(request.user)
    default_start, default_end = _default_period()
    start = request.GET.get("start") or default_start.isoformat()
    end = request.GET.get("end") or default_end.isoformat()
    units = _analysis_units(request.user)
    code = request.GET.get("org") or (units[0].code if units else _own_unit_code(request.user))
    org = lookups.staff_unit(request.user, code) if code else None
    if org is None and not request.user.is_superuser:
        raise Http404
    if org is not None and org not in units:
        units = [org, *units]
    return org, start, end, units


def _own_unit_code(user) -> str:
    """The node of the user's first staff role (a grid leader's grid, say)."""
    paths = user.scope_paths
    return paths[0].rstrip("/").rsplit("/", 1)[-1] if paths else ""


@guarded
def dashboard(request):
    org, start, end, units = _analysis_request(request)
    context = {"units": units, "org": org, "start": start, "end": end, "result": None}
    try:
        result = analysis.analyse(org, analysis.parse_period(start, end))
    except UserError as error:
        context["error"] = error
        return render(request, "prevention/dashboard.html", context, status=400)
    data = result.as_dict()
    context.update(
        result=result,
        data=data,
        chart_data=(
            {
                "trend": data["trend"],
                "places": [
                    {"name": str(PlaceType(row["place_type"]).label), "value": row["count"]}
                    for row in data["by_place_type"]
                ],
                "communities": data["by_community"][:15],
                "clusters": data["clusters"],
                "labels": {
                    "warnings": _("Warnings"),
                    "longitude": _("Longitude"),
                    "latitude": _("Latitude"),
                },
            }
        ),
        export_url=f"{reverse('prevention:export')}?org={org.code if org else ''}&start={start}&end={end}",
    )
    return render(request, "prevention/dashboard.html", context)


@guarded
def export(request):
    org, start, end, _units = _analysis_request(request)
    result = analysis.analyse(org, analysis.parse_period(start, end))
    return xlsx_response(analysis_workbook(result, actor=request.user), f"warnings-{start}-{end}.xlsx")


@guarded
def points(request):
    lookups.require_workbench(request.user)
    rows = selectors.points_with_last_reading(
        scope_queryset(request.user, MonitoringPoint.objects.all())
    ).order_by("code")
    units = scope_queryset(
        request.user, OrgUnit.objects.filter(kind__in=[OrgKind.COMMUNITY, OrgKind.ESTATE]), path_field="path"
    ).order_by("path")[:500]
    return render(
        request,
        "prevention/points.html",
        {"points": rows, "units": units, "place_types": PlaceType.choices, "today": today().isoformat()},
    )


@guarded
@require_POST
def point_create(request):
    lookups.require_workbench(request.user)
    try:
        data = forms.PointForm(request.POST).parsed()
        point = services.point_create(
            actor=request.user,
            code=data["code"],
            name=data["name"],
            org=lookups.staff_unit(request.user, data["org"]),
            latitude=data["latitude"],
            longitude=data["longitude"],
            place_type=data["place_type"],
            device_type=data["device_type"],
            bait_type=data["bait_type"],
            installed_on=data["installed_on"],
            note=data["note"],
        )
        messages.success(request, _("Point %(code)s added.") % {"code": point.code})
    except UserError as error:
        messages.error(request, str(error))
    return redirect("prevention:points")


@guarded
@require_POST
def point_retire(request, code):
    lookups.require_workbench(request.user)
    point = lookups.point(request.user, code)
    try:
        services.point_retire(actor=request.user, point=point)
        messages.success(request, _("Point %(code)s retired.") % {"code": point.code})
    except UserError as error:
        messages.error(request, str(error))
    return redirect("prevention:points")


@guarded
def rounds(request):
    lookups.require_workbench(request.user)
    rows = selectors.rounds_with_counts(
        permissions.overlapping_queryset(request.user, InspectionRound.objects.all(), staff_only=True)
    )
    page = Paginator(rows.order_by("-started_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    openable = _analysis_units(request.user)
    return render(request, "prevention/rounds.html", {"page": page, "units": openable})


@guarded
@require_POST
def round_open(request):
    lookups.require_workbench(request.user)
    try:
        data = forms.RoundForm(request.POST).parsed()
        org = lookups.staff_unit(request.user, data["org"])
        created = services.round_open(actor=request.user, org=org, name=data["name"])
    except UserError as error:
        messages.error(request, str(error))
        return redirect("prevention:rounds")
    return redirect("prevention:round", pk=created.pk)


@guarded
def round_detail(request, pk):
    lookups.require_workbench(request.user)
    inspection_round = lookups.inspection_round(request.user, pk)
    if not permissions.overlaps(request.user, inspection_round.org, staff_only=True):
        raise Http404
    rows = [
        (point, reading)
        for point, reading in selectors.round_points(inspection_round)
        if permissions.can_view_staff(request.user, point.org)
    ]
    return render(request, "prevention/round_detail.html", {"round": inspection_round, "rows": rows})


@guarded
@require_POST
def round_close(request, pk):
    inspection_round = lookups.inspection_round(request.user, pk)
    try:
        services.round_close(actor=request.user, inspection_round=inspection_round)
        messages.success(request, _("Round closed."))
    except UserError as error:
        messages.error(request, str(error))
    return redirect("prevention:round", pk=pk)


@guarded
def warnings(request):
    lookups.require_workbench(request.user)
    rows = scope_queryset(
        request.user, Warning.objects.select_related("org", "community", "case"), "org_path"
    ).order_by("-occurred_at", "-id")
    source = request.GET.get("source", "")
    if source:
        rows = rows.filter(source=source)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    places = scope_queryset(
        request.user, OrgUnit.objects.filter(kind__in=[OrgKind.COMMUNITY, OrgKind.ESTATE]), path_field="path"
    ).order_by("path")[:500]
    return render(
        request,
        "prevention/warnings.html",
        {"page": page, "source": source, "places": places, "place_types": PlaceType.choices},
    )


@guarded
@require_POST
def warning_create(request):
    """A patrol's warning, or a resident's termite case registered as a warning."""
    lookups.require_workbench(request.user)
    try:
        data = forms.WarningForm(request.POST).parsed()
        if data["case_number"]:
            case = get_in_scope_or_404(
                request.user, Case.objects.select_related("org"), number=data["case_number"]
            )
            services.warning_from_case(actor=request.user, case=case, place_type=data["place_type"])
        else:
            services.warning_record(
                actor=request.user,
                org=lookups.staff_unit(request.user, data["org"]),
                place_type=data["place_type"],
                latitude=data["latitude"],
                longitude=data["longitude"],
                description=data["description"],
            )
        messages.success(request, _("Warning recorded."))
    except UserError as error:
        messages.error(request, str(error))
    return redirect("prevention:warnings")


@guarded
@require_POST
def warning_open_case(request, pk):
    warning = lookups.warning(request.user, pk)
    try:
        case = services.warning_open_case(actor=request.user, warning=warning)
        messages.success(request, _("Case %(number)s opened.") % {"number": case.number})
    except UserError as error:
        messages.error(request, str(error))
    return redirect(_safe_next(request, reverse("prevention:warnings")))


@guarded
def campaigns(request):
    lookups.require_workbench(request.user)
    rows = selectors.campaigns_with_progress(
        permissions.overlapping_queryset(request.user, Campaign.objects.all(), staff_only=True)
    )
    return render(
        request,
        "prevention/campaigns.html",
        {
            "campaigns": rows.order_by("-starts_on", "-id"),
            "units": _analysis_units(request.user),
            "team_roles": TeamRole.choices,
            "contractors": _campaign_contractors(request.user),
        },
    )


def _campaign_contractors(user):
    """Active contractors working in or above the user's area: those a campaign here may engage."""
    rows = Contractor.objects.filter(is_active=True).select_related("org").order_by("name")
    return list(permissions.overlapping_queryset(user, rows, staff_only=True)[:200])


@guarded
@require_POST
def campaign_create(request):
    lookups.require_workbench(request.user)
    form = forms.CampaignForm(request.POST)
    try:
        data = form.parsed()
        org = lookups.staff_unit(request.user, data["org"])
        campaign = services.campaign_create(
            actor=request.user,
            name=data["name"],
            org=org,
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            units=list(services.estates_and_lanes(org)),
            team=form.team(),
            contractor=_chosen_contractor(request.user, data["contractor"]),
        )
    except UserError as error:
        messages.error(request, str(error))
        return redirect("prevention:campaigns")
    return redirect("prevention:campaign", pk=campaign.pk)


def _chosen_contractor(user, value: str) -> Contractor | None:
    if not value:
        return None
    found = next((c for c in _campaign_contractors(user) if str(c.pk) == value), None)
    if found is None:
        raise UserError("unknown_contractor", gettext_lazy("Unknown contractor"), field="contractor")
    return found


@guarded
def campaign_detail(request, pk):
    lookups.require_workbench(request.user)
    campaign = lookups.campaign(request.user, pk)
    if not permissions.overlaps(request.user, campaign.org, staff_only=True):
        raise Http404
    units = permissions.staff_queryset(request.user, selectors.campaign_units(campaign), "unit__path")
    page = Paginator(units, 100).get_page(request.GET.get("page"))
    findings = (
        permissions.staff_queryset(request.user, Finding.objects.filter(campaign_unit__campaign=campaign))
        .select_related("org", "case", "recorded_by")
        .order_by("-recorded_at", "-id")[:100]
    )
    return render(
        request,
        "prevention/campaign_detail.html",
        {
            "campaign": campaign,
            "summary": selectors.campaign_summary(campaign),
            "page": page,
            "findings": findings,
            "team": list(campaign.team.all()),
        },
    )


@guarded
def campaign_export(request, pk):
    """The campaign's units (inspected or not, findings, nests) and its summary, as a workbook."""
    lookups.require_workbench(request.user)
    campaign = lookups.campaign(request.user, pk)
    if not permissions.overlaps(request.user, campaign.org, staff_only=True):
        raise Http404
    units = permissions.staff_queryset(request.user, selectors.campaign_units(campaign), "unit__path")
    summary = selectors.campaign_summary(campaign)
    rows = (
        [
            row.unit.name,
            local(row.inspected_at).strftime("%Y-%m-%d %H:%M") if row.inspected_at else "",
            row.finding_count,
            row.nest_count,
        ]
        for row in units[:5000]
    )
    content = export_workbook(
        actor=request.user,
        verb="campaign.export",
        sheets=[
            Sheet(
                "排查进度",
                ["小区或弄 / estate or lane", "排查时间 / inspected", "发现 / findings", "白蚁巢 / nests"],
                rows,
                preamble=[[summary["text"]]],
            )
        ],
        org_path=campaign.org.path,
        object_type="prevention.campaign",
        details={"campaign": campaign.pk},
    )
    return xlsx_response(content, f"campaign-{campaign.pk}.xlsx")


# --- phone pages for inspectors ---------------------------------------------------------------------------
@guarded
def phone_home(request):
    lookups.require_inspector_pages(request.user)
    open_rounds = selectors.rounds_with_counts(
        permissions.overlapping_queryset(request.user, InspectionRound.objects.filter(closed_at__isnull=True))
    ).order_by("-started_at")
    active = selectors.campaigns_with_progress(
        permissions.overlapping_queryset(request.user, Campaign.objects.filter(status=CampaignStatus.ACTIVE))
    ).order_by("-starts_on")
    return render(request, "prevention/phone_home.html", {"rounds": open_rounds, "campaigns": active})


@guarded
def phone_round(request, pk):
    lookups.require_inspector_pages(request.user)
    inspection_round = lookups.inspection_round(request.user, pk)
    if request.method == "POST":
        data = forms.ReadingForm(request.POST).parsed()
        point = lookups.point(request.user, data["point"])
        try:
            photo = request.FILES.get("photo")
            services.reading_record(
                actor=request.user,
                inspection_round=inspection_round,
                point=point,
                activity_found=data["activity_found"],
                bait_consumed_pct=data["bait_consumed_pct"],
                photo=validate_image(photo) if photo else None,
                note=data["note"],
                open_case=data["open_case"],
            )
            messages.success(request, _("Reading for %(code)s saved.") % {"code": point.code})
        except UserError as error:
            messages.error(request, str(error))
        return redirect("prevention:m-round", pk=pk)
    rows = [
        (point, reading, permissions.is_desk_for(request.user, point.org))
        for point, reading in selectors.round_points(inspection_round)
        if permissions.can_inspect(request.user, point.org)
    ]
    return render(request, "prevention/phone_round.html", {"round": inspection_round, "rows": rows})


@guarded
def phone_campaign(request, pk):
    lookups.require_inspector_pages(request.user)
    campaign = lookups.campaign(request.user, pk)
    if request.method == "POST":
        data = forms.FindingForm(request.POST).parsed()
        unit = lookups.inspector_unit(request.user, data["unit"])
        try:
            if data["description"].strip():
                finding = services.finding_record(
                    actor=request.user,
                    campaign=campaign,
                    unit=unit,
                    description=data["description"],
                    place_type=data["place_type"],
                    nest_found=data["nest_found"],
                    treated_on_spot=data["treated_on_spot"],
                    photos=validate_images(request.FILES.getlist("photos")),
                    technician=lookups.technician(data["technician"]),
                )
                if finding.case_id:
                    messages.success(
                        request,
                        _("Finding saved; case %(number)s recorded as completed.")
                        % {"number": finding.case.number},
                    )
                else:
                    messages.success(request, _("Finding saved."))
            else:
                services.campaign_mark_inspected(
                    actor=request.user, campaign=campaign, unit=unit, note=data["note"]
                )
                messages.success(request, _("%(name)s marked inspected.") % {"name": unit.name})
        except UserError as error:
            messages.error(request, str(error))
        return redirect("prevention:m-campaign", pk=pk)
    pending = permissions.inspector_queryset(
        request.user, selectors.campaign_units(campaign).filter(inspected_at__isnull=True), "unit__path"
    ).order_by("unit__path")
    technicians = list(campaign.contractor.users.filter(is_active=True)) if campaign.contractor_id else []
    return render(
        request,
        "prevention/phone_campaign.html",
        {
            "campaign": campaign,
            "summary": selectors.campaign_summary(campaign),
            "pending": pending[:400],
            "place_types": PlaceType.choices,
            "technicians": technicians,
        },
    )


@guarded
def campaign_spraying(request, pk):
    """喷洒药水 of a campaign: the estates sprayed so far, and the form to record one (desk or inspector)."""
    lookups.require_inspector_pages(request.user)
    campaign = lookups.campaign(request.user, pk)
    if request.method == "POST":
        try:
            data = forms.SprayingForm(request.POST).parsed()
            unit = lookups.inspector_unit(request.user, data["unit"])
            spraying.spraying_record(
                actor=request.user,
                campaign=campaign,
                unit=unit,
                sprayed_at=data["sprayed_at"],
                agent=data["agent"],
                note=data["note"],
                photos=validate_images(request.FILES.getlist("photos"), field="photos"),
            )
        except UserError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Spraying of %(name)s recorded.") % {"name": unit.name})
        return redirect("prevention:campaign-spraying", pk=pk)
    rows = (
        permissions.inspector_queryset(request.user, campaign.sprayings.all())
        .select_related("org", "contractor")
        .prefetch_related("photos")
        .order_by("-sprayed_at", "-id")[:200]
    )
    units = permissions.inspector_queryset(request.user, selectors.campaign_units(campaign), "unit__path")
    return render(
        request,
        "prevention/campaign_spraying.html",
        {"campaign": campaign, "rows": rows, "units": units.order_by("unit__path")[:400]},
    )


def _safe_next(request, fallback: str) -> str:
    """Where to go back to: the page's ``next`` when it is on this site, else ``fallback``."""
    target = forms.NextForm(request.POST).parsed()["next"]
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
