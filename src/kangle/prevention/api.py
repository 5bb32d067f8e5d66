"""Prevention: /api/v1/prevention/… — points, rounds, readings, warnings, analysis, campaigns.

Everything is scoped: staff see their subtree, contractor staff the places their role covers; an object
outside is a 404. Readings and findings take a multipart form so a photo can come along.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from ninja import File, Form, Router
from ninja.files import UploadedFile
from ninja.pagination import paginate

from kangle.cases.models import Case, Contractor
from kangle.core.exports import xlsx_response
from kangle.core.pagination import Listing, Pagination
from kangle.core.uploads import validate_image, validate_images
from kangle.orgs.scope import get_in_scope_or_404
from kangle.orgs.selectors import subtree_q
from kangle.prevention import analysis, lookups, permissions, selectors, services, spraying
from kangle.prevention.export import analysis_workbook
from kangle.prevention.models import (
    Campaign,
    Finding,
    InspectionRound,
    MonitoringPoint,
    Reading,
    Spraying,
    Warning,
)
from kangle.prevention.schemas import (
    CampaignIn,
    CampaignListOut,
    CampaignOut,
    CampaignUnitOut,
    CaseRef,
    FindingIn,
    FindingOut,
    InspectIn,
    PointIn,
    PointOut,
    ReadingIn,
    ReadingOut,
    RoundIn,
    RoundOut,
    SprayingIn,
    SprayingOut,
    WarningFromCaseIn,
    WarningIn,
    WarningOut,
)

router = Router(tags=["prevention"])


# --- points -----------------------------------------------------------------------------------------------
@router.get("/points", response=list[PointOut])
@paginate(Pagination, page_size=100)
def list_points(request, under: str | None = None, status: str | None = None):
    lookups.require_inspector_pages(request.user)
    points = permissions.inspector_queryset(request.user, MonitoringPoint.objects.select_related("org"))
    if under:
        points = points.filter(subtree_q(lookups.inspector_unit(request.user, under).path, "org__path"))
    if status:
        points = points.filter(status=status)
    return points.order_by("code")


@router.post("/points", response={201: PointOut})
def create_point(request, payload: PointIn):
    org = lookups.staff_unit(request.user, payload.org_code)
    data = payload.dict(exclude={"org_code"})
    return 201, services.point_create(actor=request.user, org=org, **data)


@router.get("/points/{code}", response=PointOut)
def get_point(request, code: str):
    return lookups.point(request.user, code)


@router.post("/points/{code}/retire", response=PointOut)
def retire_point(request, code: str):
    return services.point_retire(actor=request.user, point=lookups.point(request.user, code))


# --- rounds and readings ----------------------------------------------------------------------------------
@router.get("/rounds", response=list[RoundOut])
@paginate(Pagination, page_size=50)
def list_rounds(request, open_only: bool = False):
    lookups.require_inspector_pages(request.user)
    rounds = permissions.overlapping_queryset(request.user, InspectionRound.objects.all())
    if open_only:
        rounds = rounds.filter(closed_at__isnull=True)
    return selectors.rounds_with_counts(rounds).order_by("-started_at", "-id")


@router.post("/rounds", response={201: RoundOut})
def open_round(request, payload: RoundIn):
    org = lookups.staff_unit(request.user, payload.org_code)
    return 201, services.round_open(actor=request.user, org=org, name=payload.name)


@router.post("/rounds/{round_id}/close", response=RoundOut)
def close_round(request, round_id: int):
    return services.round_close(
        actor=request.user, inspection_round=lookups.inspection_round(request.user, round_id)
    )


@router.get("/rounds/{round_id}/readings", response=list[ReadingOut])
@paginate(Pagination, page_size=100)
def list_readings(request, round_id: int):
    inspection_round = lookups.inspection_round(request.user, round_id)
    return (
        Reading.objects.filter(round=inspection_round)
        .select_related("point", "warning__case")
        .order_by("point__code", "id")
    )


@router.post("/rounds/{round_id}/readings", response={201: ReadingOut})
def record_reading(request, round_id: int, payload: Form[ReadingIn], photo: File[UploadedFile] = None):
    inspection_round = lookups.inspection_round(request.user, round_id)
    point = lookups.point(request.user, payload.point_code)
    image = validate_image(photo) if photo else None
    reading = services.reading_record(
        actor=request.user,
        inspection_round=inspection_round,
        point=point,
        activity_found=payload.activity_found,
        bait_consumed_pct=payload.bait_consumed_pct,
        photo=image,
        note=payload.note,
        open_case=payload.open_case,
    )
    return 201, Reading.objects.select_related("point", "warning__case").get(pk=reading.pk)


# --- warnings ---------------------------------------------------------------------------------------------
@router.get("/warnings", response=list[WarningOut])
@paginate(Pagination, page_size=100)
def list_warnings(
    request,
    org: str | None = None,
    start: str | None = None,
    end: str | None = None,
    source: str | None = None,
):
    lookups.require_workbench(request.user)
    warnings = permissions.staff_queryset(
        request.user, Warning.objects.select_related("org", "community", "case"), "org_path"
    )
    if org:
        warnings = warnings.filter(subtree_q(lookups.staff_unit(request.user, org).path, "org_path"))
    if start or end:
        warnings = warnings.filter(analysis.parse_period(start, end).q())
    if source:
        warnings = warnings.filter(source=source)
    return Listing(warnings.order_by("-occurred_at", "-id"), seek=("-occurred_at", "-id"))


@router.post("/warnings", response={201: WarningOut})
def record_warning(request, payload: WarningIn):
    org = lookups.inspector_unit(request.user, payload.org_code)
    warning = services.warning_record(
        actor=request.user,
        org=org,
        place_type=payload.place_type,
        occurred_at=payload.occurred_at,
        latitude=payload.latitude,
        longitude=payload.longitude,
        description=payload.description,
        source=payload.source,
    )
    return 201, Warning.objects.select_related("org", "community", "case").get(pk=warning.pk)


@router.post("/warnings/from-case", response={201: WarningOut})
def warning_from_case(request, payload: WarningFromCaseIn):
    case = get_in_scope_or_404(request.user, Case.objects.select_related("org"), number=payload.case_number)
    warning = services.warning_from_case(actor=request.user, case=case, place_type=payload.place_type)
    return 201, Warning.objects.select_related("org", "community", "case").get(pk=warning.pk)


@router.get("/warnings/{warning_id}", response=WarningOut)
def get_warning(request, warning_id: int):
    return lookups.warning(request.user, warning_id)


@router.post("/warnings/{warning_id}/open-case", response={201: CaseRef})
def open_case(request, warning_id: int):
    case = services.warning_open_case(actor=request.user, warning=lookups.warning(request.user, warning_id))
    return 201, case


# --- analysis ---------------------------------------------------------------------------------------------
def _analysis(request, org: str | None, start: str | None, end: str | None) -> analysis.Analysis:
    lookups.require_workbench(request.user)
    period = analysis.parse_period(start, end)
    unit = lookups.staff_unit(request.user, org) if org else None
    if unit is None and not request.user.is_superuser:
        unit = lookups.staff_unit(request.user, request.user.scope_paths[0].rstrip("/").split("/")[-1])
    return analysis.analyse(unit, period)


@router.get("/analysis")
def get_analysis(request, start: str, end: str, org: str | None = None):
    """Count, 环比 (previous period of equal length), 同比 (same dates last year), breakdowns, clusters,
    trend and the Chinese brief for the period ``start``–``end`` (both included) under ``org``."""
    return _analysis(request, org, start, end).as_dict()


@router.get("/analysis.xlsx")
def export_analysis(request, start: str, end: str, org: str | None = None):
    result = _analysis(request, org, start, end)
    return xlsx_response(analysis_workbook(result, actor=request.user), f"warnings-{start}-{end}.xlsx")


# --- campaigns --------------------------------------------------------------------------------------------
@router.get("/campaigns", response=list[CampaignListOut])
@paginate(Pagination, page_size=50)
def list_campaigns(request):
    lookups.require_inspector_pages(request.user)
    campaigns = permissions.overlapping_queryset(request.user, Campaign.objects.all())
    return selectors.campaigns_with_progress(campaigns).order_by("-starts_on", "-id")


@router.post("/campaigns", response={201: CampaignOut})
def create_campaign(request, payload: CampaignIn):
    org = lookups.staff_unit(request.user, payload.org_code)
    if payload.all_estates_and_lanes:
        units = list(services.estates_and_lanes(org))
    else:
        units = [lookups.staff_unit(request.user, code) for code in payload.unit_codes or []]
    contractor = None
    if payload.contractor_id is not None:
        contractor = Contractor.objects.select_related("org").filter(pk=payload.contractor_id).first()
        if contractor is None:
            from kangle.core.errors import UserError

            raise UserError("unknown_contractor", _("Unknown contractor"), field="contractor_id")
    campaign = services.campaign_create(
        actor=request.user,
        name=payload.name,
        org=org,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        units=units,
        team=[(member.role, member.name) for member in payload.team],
        contractor=contractor,
    )
    return 201, lookups.campaign(request.user, campaign.pk)


@router.get("/campaigns/{campaign_id}", response=CampaignOut)
def get_campaign(request, campaign_id: int):
    return lookups.campaign(request.user, campaign_id)


@router.get("/campaigns/{campaign_id}/units", response=list[CampaignUnitOut])
@paginate(Pagination, page_size=100)
def list_campaign_units(request, campaign_id: int, pending: bool = False):
    units = permissions.inspector_queryset(
        request.user, selectors.campaign_units(lookups.campaign(request.user, campaign_id)), "unit__path"
    )
    if pending:
        units = units.filter(inspected_at__isnull=True)
    return units


@router.post("/campaigns/{campaign_id}/inspect", response=CampaignUnitOut)
def inspect_unit(request, campaign_id: int, payload: InspectIn):
    campaign = lookups.campaign(request.user, campaign_id)
    unit = lookups.inspector_unit(request.user, payload.unit_code)
    row = services.campaign_mark_inspected(
        actor=request.user, campaign=campaign, unit=unit, note=payload.note
    )
    return selectors.campaign_units(campaign).get(pk=row.pk)


@router.post("/campaigns/{campaign_id}/findings", response={201: FindingOut})
def record_finding(
    request, campaign_id: int, payload: Form[FindingIn], photos: File[list[UploadedFile]] = None
):
    campaign = lookups.campaign(request.user, campaign_id)
    unit = lookups.inspector_unit(request.user, payload.unit_code)
    finding = services.finding_record(
        actor=request.user,
        campaign=campaign,
        unit=unit,
        description=payload.description,
        place_type=payload.place_type,
        nest_found=payload.nest_found,
        treated_on_spot=payload.treated_on_spot,
        photos=validate_images(photos or []),
        technician=lookups.technician(payload.technician),
    )
    return 201, Finding.objects.select_related("org", "case").get(pk=finding.pk)


@router.post("/campaigns/{campaign_id}/close", response=CampaignOut)
def close_campaign(request, campaign_id: int):
    campaign = services.campaign_close(
        actor=request.user, campaign=lookups.campaign(request.user, campaign_id)
    )
    return lookups.campaign(request.user, campaign.pk)


# --- green-belt spraying ----------------------------------------------------------------------------------
@router.get("/campaigns/{campaign_id}/sprayings", response=list[SprayingOut])
@paginate(Pagination, page_size=100)
def list_sprayings(request, campaign_id: int):
    campaign = lookups.campaign(request.user, campaign_id)
    rows = permissions.inspector_queryset(request.user, campaign.sprayings.all())
    rows = rows.select_related("org", "contractor").prefetch_related("photos").order_by("-sprayed_at", "-id")
    return Listing(rows, row=SprayingOut.of, seek=("-sprayed_at", "-id"))


@router.post("/campaigns/{campaign_id}/sprayings", response={201: SprayingOut})
def record_spraying(
    request, campaign_id: int, payload: Form[SprayingIn], photos: File[list[UploadedFile]] = None
):
    campaign = lookups.campaign(request.user, campaign_id)
    unit = lookups.inspector_unit(request.user, payload.unit_code)
    contractor = None
    if payload.contractor_id is not None:
        contractor = Contractor.objects.select_related("org").filter(pk=payload.contractor_id).first()
        if contractor is None:
            from kangle.core.errors import UserError

            raise UserError("unknown_contractor", _("Unknown contractor"), field="contractor_id")
    row = spraying.spraying_record(
        actor=request.user,
        campaign=campaign,
        unit=unit,
        sprayed_at=payload.sprayed_at,
        agent=payload.agent,
        note=payload.note,
        contractor=contractor,
        photos=validate_images(photos or []),
    )
    row = Spraying.objects.select_related("org", "contractor").prefetch_related("photos").get(pk=row.pk)
    return 201, SprayingOut.of(row)
