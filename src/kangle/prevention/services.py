"""Every change in prevention: points, rounds and readings, warnings, campaigns and their findings.

Each service checks permission, validates, writes inside ``transaction.atomic`` and records an audit event.
Cases are never written here directly: opening a case calls ``kangle.cases.services.case_report``, and a
nest found and treated on the spot during a campaign is recorded by calling the case services in order
(``record_completed_case``), all inside the same transaction as the finding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy

from kangle.cases import services as case_services
from kangle.cases.models import Case, CaseCategory, Channel, Contractor, WorkStep
from kangle.core import audit, cleaners
from kangle.core.errors import NotAllowed, UserError
from kangle.core.timeutil import local, resolve_now
from kangle.core.uploads import ValidatedImage
from kangle.orgs.models import EstateType, OrgKind, OrgUnit
from kangle.prevention import permissions
from kangle.prevention.models import (
    Campaign,
    CampaignStatus,
    CampaignUnit,
    Finding,
    InspectionRound,
    MonitoringPoint,
    PlaceType,
    PointStatus,
    Reading,
    TeamOrganisation,
    TeamRole,
    Warning,
    WarningSource,
    grid_cell,
)

TERMITE_CATEGORY = "termite"
# A campaign finding's on-the-spot visit: the slot booked for it starts this long after the report.
ON_SPOT_SLOT = dt.timedelta(seconds=1)


COORDINATE_LABELS = {"latitude": gettext_lazy("Latitude"), "longitude": gettext_lazy("Longitude")}


# --- helpers ----------------------------------------------------------------------------------------------
def _coordinate(value, *, field: str, low: int, high: int) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not low <= number <= high:
        raise UserError(
            f"invalid_{field}",
            gettext_lazy("%(label)s must be a number between %(low)s and %(high)s"),
            field=field,
            label=COORDINATE_LABELS[field],
            low=low,
            high=high,
        )
    return number


def _require_desk(actor, org: OrgUnit) -> None:
    if not permissions.can_view_staff(actor, org):
        raise Http404
    if not permissions.is_desk_for(actor, org):
        raise NotAllowed(gettext_lazy("Only street, area or community staff may do this"))


def community_of(org: OrgUnit) -> OrgUnit | None:
    if org.kind == OrgKind.COMMUNITY:
        return org
    return OrgUnit.objects.filter(code__in=org.ancestor_codes(), kind=OrgKind.COMMUNITY).first()


def termite_category() -> CaseCategory:
    category = CaseCategory.objects.select_related("policy").filter(code=TERMITE_CATEGORY).first()
    if category is None:
        raise UserError(
            "no_termite_category",
            gettext_lazy("There is no termite case category; create it in the admin first"),
            field="category",
        )
    return category


# --- monitoring points ------------------------------------------------------------------------------------
@transaction.atomic
def point_create(
    *,
    actor,
    code: str,
    name: str,
    org: OrgUnit,
    latitude,
    longitude,
    place_type: str,
    device_type: str,
    bait_type: str,
    installed_on: dt.date | None,
    note: str = "",
    now: dt.datetime | None = None,
) -> MonitoringPoint:
    moment = resolve_now(now)
    _require_desk(actor, org)
    code = cleaners.text(code, field="code", label=gettext_lazy("Point code"), max_length=40)
    if MonitoringPoint.objects.filter(code=code).exists():
        raise UserError(
            "duplicate_code",
            gettext_lazy("Point code %(code_value)s already exists"),
            field="code",
            code_value=code,
        )
    lat = _coordinate(latitude, field="latitude", low=-90, high=90)
    lng = _coordinate(longitude, field="longitude", low=-180, high=180)
    if lat is None or lng is None:
        raise UserError(
            "blank_coordinates", gettext_lazy("The point's coordinates are required"), field="latitude"
        )
    if installed_on is None:
        raise UserError(
            "blank_installed_on", gettext_lazy("The installation date is required"), field="installed_on"
        )
    if installed_on > local(moment).date():
        raise UserError(
            "installed_in_future",
            gettext_lazy("The installation date cannot be in the future"),
            field="installed_on",
        )
    point = MonitoringPoint.objects.create(
        code=code,
        name=cleaners.text(name, field="name", label=gettext_lazy("Point name"), max_length=100),
        org=org,
        latitude=lat,
        longitude=lng,
        place_type=cleaners.choice(
            place_type, field="place_type", label=gettext_lazy("Type of place"), choices=PlaceType
        ),
        device_type=cleaners.text(
            device_type, field="device_type", label=gettext_lazy("Device type"), max_length=100
        ),
        bait_type=cleaners.text(
            bait_type, field="bait_type", label=gettext_lazy("Bait type"), max_length=100
        ),
        installed_on=installed_on,
        note=cleaners.text(note, field="note", label=gettext_lazy("Note"), required=False, max_length=200),
    )
    audit.record(actor=actor, verb="point.create", obj=point, now=moment)
    return point


@transaction.atomic
def point_retire(*, actor, point: MonitoringPoint, now: dt.datetime | None = None) -> MonitoringPoint:
    moment = resolve_now(now)
    point = MonitoringPoint.objects.select_for_update().select_related("org").get(pk=point.pk)
    _require_desk(actor, point.org)
    if point.status == PointStatus.RETIRED:
        raise UserError(
            "point_retired",
            gettext_lazy("Point %(code_value)s is already retired"),
            field="status",
            code_value=point.code,
        )
    MonitoringPoint.objects.filter(pk=point.pk).update(
        status=PointStatus.RETIRED, retired_on=local(moment).date()
    )
    point.refresh_from_db()
    audit.record(actor=actor, verb="point.retire", obj=point, now=moment)
    return point


# --- rounds and readings ----------------------------------------------------------------------------------
@transaction.atomic
def round_open(*, actor, org: OrgUnit, name: str = "", now: dt.datetime | None = None) -> InspectionRound:
    moment = resolve_now(now)
    _require_desk(actor, org)
    name = cleaners.text(name, field="name", label=gettext_lazy("Round name"), required=False, max_length=100)
    inspection_round = InspectionRound.objects.create(
        org=org,
        name=name or f"{org.name} {local(moment):%Y-%m-%d} 巡检",
        started_at=moment,
        created_by=actor,
    )
    audit.record(actor=actor, verb="round.open", obj=inspection_round, now=moment)
    return inspection_round


@transaction.atomic
def round_close(
    *, actor, inspection_round: InspectionRound, now: dt.datetime | None = None
) -> InspectionRound:
    moment = resolve_now(now)
    inspection_round = (
        InspectionRound.objects.select_for_update().select_related("org").get(pk=inspection_round.pk)
    )
    _require_desk(actor, inspection_round.org)
    if not inspection_round.is_open:
        raise UserError(
            "round_closed", gettext_lazy("This inspection round is already closed"), field="round"
        )
    InspectionRound.objects.filter(pk=inspection_round.pk).update(closed_at=moment)
    inspection_round.closed_at = moment
    audit.record(actor=actor, verb="round.close", obj=inspection_round, now=moment)
    return inspection_round


@transaction.atomic
def reading_record(
    *,
    actor,
    inspection_round: InspectionRound,
    point: MonitoringPoint,
    activity_found: bool,
    bait_consumed_pct,
    photo: ValidatedImage | None = None,
    note: str = "",
    open_case: bool = False,
    now: dt.datetime | None = None,
) -> Reading:
    """One reading of one point on one round. A positive reading raises a warning (and, asked, a case)."""
    moment = resolve_now(now)
    inspection_round = (
        InspectionRound.objects.select_for_update().select_related("org").get(pk=inspection_round.pk)
    )
    point = MonitoringPoint.objects.select_related("org").get(pk=point.pk)
    permissions.require_overlap(actor, inspection_round.org)
    permissions.require_inspector(actor, point.org)
    _reading_point_takes_reading(inspection_round, point)
    pct = _reading_bait_consumed(bait_consumed_pct)
    if Reading.objects.filter(round=inspection_round, point=point).exists():
        raise _duplicate_reading(point)
    try:
        with transaction.atomic():
            reading = Reading.objects.create(
                round=inspection_round,
                point=point,
                activity_found=bool(activity_found),
                bait_consumed_pct=pct,
                photo=photo.as_file() if photo is not None else "",
                note=cleaners.text(
                    note, field="note", label=gettext_lazy("Note"), required=False, max_length=300
                ),
                recorded_by=actor,
                recorded_at=moment,
            )
    except IntegrityError:  # another inspector recorded the same point a moment ago
        raise _duplicate_reading(point) from None
    audit.record(
        actor=actor,
        verb="reading.create",
        obj=reading,
        org_path=point.org.path,
        details={"point": point.code, "activity": bool(activity_found), "pct": pct},
        now=moment,
    )
    _reading_warn(actor=actor, reading=reading, point=point, pct=pct, open_case=open_case, moment=moment)
    return reading


def _reading_point_takes_reading(inspection_round: InspectionRound, point: MonitoringPoint) -> None:
    """The point lies in the round's area, the round is open and the point is not retired."""
    if not point.org.path.startswith(inspection_round.org.path):
        raise UserError(
            "point_outside_round",
            gettext_lazy("Point %(code_value)s is outside this round's area (%(name)s)"),
            field="point",
            code_value=point.code,
            name=inspection_round.org.name,
        )
    if not inspection_round.is_open:
        raise UserError("round_closed", gettext_lazy("This round is closed; no more readings"), field="round")
    if point.status == PointStatus.RETIRED:
        raise UserError(
            "point_retired",
            gettext_lazy("Point %(code_value)s is retired; it takes no readings"),
            field="point",
            code_value=point.code,
        )


def _reading_bait_consumed(value) -> int:
    """The share of bait consumed, a whole number from 0 to 100."""
    try:
        pct = int(value)
    except (TypeError, ValueError):
        pct = -1
    if not 0 <= pct <= 100:
        raise UserError(
            "invalid_bait_consumed",
            gettext_lazy("Bait consumed must be a whole number from 0 to 100"),
            field="bait_consumed_pct",
        )
    return pct


def _reading_warn(
    *, actor, reading: Reading, point: MonitoringPoint, pct: int, open_case: bool, moment: dt.datetime
) -> None:
    """A positive reading raises a monitoring warning (and, when asked, opens its case); asking for a case
    on a negative reading is refused (the caller's transaction then undoes the reading)."""
    if reading.is_positive:
        warning = _warning_create(
            actor=actor,
            source=WarningSource.MONITORING,
            place_type=point.place_type,
            org=point.org,
            occurred_at=moment,
            latitude=point.latitude,
            longitude=point.longitude,
            description=f"监测点 {point.code} 发现白蚁活动，饵剂消耗 {pct}%",
            reading=reading,
            now=moment,
        )
        if open_case:
            warning_open_case(actor=actor, warning=warning, now=moment)
    elif open_case:
        raise UserError(
            "nothing_to_open",
            gettext_lazy("A reading without termite activity raises no warning; there is no case to open"),
            field="open_case",
        )


def _duplicate_reading(point: MonitoringPoint) -> UserError:
    return UserError(
        "duplicate_reading",
        gettext_lazy("Point %(code_value)s already has a reading in this round (one per point per round)"),
        field="point",
        status=409,
        code_value=point.code,
    )


# --- warnings ---------------------------------------------------------------------------------------------
def _warning_create(
    *,
    actor,
    source: str,
    place_type: str,
    org: OrgUnit,
    occurred_at: dt.datetime,
    latitude=None,
    longitude=None,
    description: str = "",
    reading: Reading | None = None,
    case: Case | None = None,
    now: dt.datetime,
) -> Warning:
    community = community_of(org)
    warning = Warning.objects.create(
        source=source,
        place_type=cleaners.choice(
            place_type, field="place_type", label=gettext_lazy("Type of place"), choices=PlaceType
        ),
        org=org,
        org_path=org.path,
        community=community,
        occurred_at=occurred_at,
        occurred_on=local(occurred_at).date(),
        latitude=latitude,
        longitude=longitude,
        cell_lat=grid_cell(latitude),
        cell_lng=grid_cell(longitude),
        description=description[:300],
        reading=reading,
        case=case,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
        created_at=now,
    )
    audit.record(
        actor=actor,
        verb="warning.create",
        obj=warning,
        org_path=org.path,
        details={"source": source, "place_type": place_type},
        now=now,
    )
    return warning


@transaction.atomic
def warning_record(
    *,
    actor,
    org: OrgUnit,
    place_type: str,
    occurred_at: dt.datetime | None = None,
    latitude=None,
    longitude=None,
    description: str = "",
    source: str = WarningSource.PATROL,
    now: dt.datetime | None = None,
) -> Warning:
    """A warning from a patrol, entered by hand (readings and cases raise theirs through their services)."""
    moment = resolve_now(now)
    permissions.require_inspector(actor, org)
    if source != WarningSource.PATROL:
        raise UserError(
            "invalid_source",
            gettext_lazy("Only patrol warnings are entered by hand; readings and cases raise their own"),
            field="source",
        )
    occurred_at = occurred_at or moment
    if occurred_at > moment + dt.timedelta(minutes=5):
        raise UserError(
            "occurred_in_future",
            gettext_lazy("The warning time cannot be in the future"),
            field="occurred_at",
        )
    return _warning_create(
        actor=actor,
        source=source,
        place_type=place_type,
        org=org,
        occurred_at=occurred_at,
        latitude=_coordinate(latitude, field="latitude", low=-90, high=90),
        longitude=_coordinate(longitude, field="longitude", low=-180, high=180),
        description=cleaners.text(
            description, field="description", label=gettext_lazy("Situation"), required=False, max_length=300
        ),
        now=moment,
    )


@transaction.atomic
def warning_from_case(*, actor, case: Case, place_type: str, now: dt.datetime | None = None) -> Warning:
    """A resident's termite case becomes a warning (once), at the case's place and report time."""
    moment = resolve_now(now)
    case = Case.objects.select_related("org", "category").get(pk=case.pk)
    _require_desk(actor, case.org)
    if case.category.code != TERMITE_CATEGORY:
        raise UserError(
            "not_termite_case",
            gettext_lazy("Case %(number)s is not a termite case"),
            field="case",
            number=case.number,
        )
    if Warning.objects.filter(case=case, source=WarningSource.RESIDENT_CASE).exists():
        raise UserError(
            "case_already_warned",
            gettext_lazy("Case %(number)s already has a warning"),
            field="case",
            status=409,
            number=case.number,
        )
    return _warning_create(
        actor=actor,
        source=WarningSource.RESIDENT_CASE,
        place_type=place_type,
        org=case.org,
        occurred_at=case.reported_at,
        latitude=case.latitude,
        longitude=case.longitude,
        description=f"居民反映：{case.title}",
        case=case,
        now=moment,
    )


@transaction.atomic
def warning_open_case(*, actor, warning: Warning, now: dt.datetime | None = None) -> Case:
    """One step from a warning to a case on the desk's queue (channel: prevention monitoring)."""
    moment = resolve_now(now)
    warning = Warning.objects.select_for_update().select_related("org").get(pk=warning.pk)
    if not permissions.can_inspect(actor, warning.org):
        raise Http404
    if warning.case_id is not None:
        raise UserError(
            "warning_has_case", gettext_lazy("This warning already has a case"), field="case", status=409
        )
    desk = actor if permissions.is_desk_for(actor, warning.org) else None
    if desk is None:
        raise NotAllowed(
            gettext_lazy("Only street, area or community staff may open a case; contact the desk")
        )
    case = case_services.case_report(
        actor=desk,
        category=termite_category(),
        org=warning.org,
        channel=Channel.PREVENTION,
        title=f"白蚁预警：{warning.org.name}",
        description=warning.description,
        address=warning.org.name,
        latitude=warning.latitude,
        longitude=warning.longitude,
        now=moment,
    )
    Warning.objects.filter(pk=warning.pk).update(case=case)
    warning.case = case
    audit.record(
        actor=actor,
        verb="warning.open_case",
        obj=warning,
        org_path=warning.org_path,
        details={"case": case.number},
        now=moment,
    )
    return case


# --- campaigns --------------------------------------------------------------------------------------------
@transaction.atomic
def campaign_create(
    *,
    actor,
    name: str,
    org: OrgUnit,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    units: Iterable[OrgUnit],
    team: Sequence[tuple[str, str]],
    contractor: Contractor | None = None,
    now: dt.datetime | None = None,
) -> Campaign:
    """A campaign over a list of estates and lanes (all under ``org``) with its joint team."""
    moment = resolve_now(now)
    _require_desk(actor, org)
    name = cleaners.text(name, field="name", label=gettext_lazy("Campaign name"), max_length=100)
    if starts_on is None or ends_on is None:
        raise UserError("blank_dates", gettext_lazy("Start and end dates are required"), field="starts_on")
    if ends_on < starts_on:
        raise UserError(
            "end_before_start", gettext_lazy("The end date is before the start date"), field="ends_on"
        )
    units = list(units)
    if not units:
        raise UserError("no_units", gettext_lazy("Choose at least one estate or lane"), field="units")
    for unit in units:
        if unit.kind != OrgKind.ESTATE or not unit.path.startswith(org.path):
            raise UserError(
                "unit_not_estate",
                gettext_lazy("'%(name)s' is not an estate or lane under %(name2)s"),
                field="units",
                name=unit.name,
                name2=org.name,
            )
    if len({unit.pk for unit in units}) != len(units):
        raise UserError("duplicate_units", gettext_lazy("An estate or lane is listed twice"), field="units")
    members = []
    for role, member_name in team:
        if role not in TeamRole.values:
            raise UserError(
                "invalid_team_role", gettext_lazy("Unknown team role: %(role)s"), field="team", role=role
            )
        members.append(
            (
                role,
                cleaners.text(
                    member_name, field="team", label=gettext_lazy("Team organisation"), max_length=100
                ),
            )
        )
    if contractor is not None and (not contractor.is_active or not org.path.startswith(contractor.org.path)):
        raise UserError(
            "contractor_not_covering",
            gettext_lazy("The chosen contractor does not cover this area"),
            field="contractor",
        )
    campaign = Campaign.objects.create(
        name=name,
        org=org,
        starts_on=starts_on,
        ends_on=ends_on,
        lead=actor,
        contractor=contractor,
        created_at=moment,
    )
    TeamOrganisation.objects.bulk_create(
        [TeamOrganisation(campaign=campaign, role=role, name=member_name) for role, member_name in members]
    )
    CampaignUnit.objects.bulk_create([CampaignUnit(campaign=campaign, unit=unit) for unit in units])
    audit.record(
        actor=actor,
        verb="campaign.create",
        obj=campaign,
        details={"units": len(units), "team": [name for _, name in members]},
        now=moment,
    )
    return campaign


def campaign_unit_lock(campaign: Campaign, unit: OrgUnit) -> CampaignUnit:
    """The campaign's row for ``unit``, locked for update; refused when the unit is not on the list."""
    row = CampaignUnit.objects.select_for_update().filter(campaign=campaign, unit=unit).first()
    if row is None:
        raise UserError(
            "unit_not_in_campaign",
            gettext_lazy("'%(name)s' is not on the list of campaign '%(name2)s'"),
            field="unit",
            name=unit.name,
            name2=campaign.name,
        )
    return row


def campaign_require_open(campaign: Campaign) -> Campaign:
    """The campaign read afresh (with its org, contractor and lead); refused once it is closed."""
    campaign = Campaign.objects.select_related("org", "contractor__org", "lead").get(pk=campaign.pk)
    if campaign.status != CampaignStatus.ACTIVE:
        raise UserError(
            "campaign_closed", gettext_lazy("This campaign is closed"), field="campaign", status=409
        )
    return campaign


@transaction.atomic
def campaign_mark_inspected(
    *, actor, campaign: Campaign, unit: OrgUnit, note: str = "", now: dt.datetime | None = None
) -> CampaignUnit:
    moment = resolve_now(now)
    campaign = campaign_require_open(campaign)
    permissions.require_overlap(actor, campaign.org)
    permissions.require_inspector(actor, unit)
    row = campaign_unit_lock(campaign, unit)
    note = cleaners.text(
        note, field="note", label=gettext_lazy("Inspection notes"), required=False, max_length=500
    )
    fields = {"inspected_by": actor, "note": note}
    if row.inspected_at is None:
        fields["inspected_at"] = moment
    CampaignUnit.objects.filter(pk=row.pk).update(**fields)
    row.refresh_from_db()
    audit.record(
        actor=actor,
        verb="campaign.inspect",
        obj=campaign,
        org_path=unit.path,
        details={"unit": unit.code},
        now=moment,
    )
    return row


@transaction.atomic
def finding_record(
    *,
    actor,
    campaign: Campaign,
    unit: OrgUnit,
    description: str,
    place_type: str,
    nest_found: bool = False,
    treated_on_spot: bool = False,
    photos: Sequence[ValidatedImage] = (),
    technician=None,
    latitude=None,
    longitude=None,
    now: dt.datetime | None = None,
) -> Finding:
    """A finding at an estate or lane of the campaign (which marks it inspected).

    A nest raises a patrol warning. A nest treated on the spot is recorded as a completed case: the desk
    steps are logged by the recorder if they are desk staff (else by the campaign's lead), the contractor
    steps by the recorder if they work for the campaign's contractor (else by ``technician``, who must).
    """
    moment = resolve_now(now)
    campaign = campaign_require_open(campaign)
    permissions.require_overlap(actor, campaign.org)
    permissions.require_inspector(actor, unit)
    row = campaign_unit_lock(campaign, unit)
    description = cleaners.text(
        description, field="description", label=gettext_lazy("What was found"), max_length=300
    )
    place_type = cleaners.choice(
        place_type, field="place_type", label=gettext_lazy("Type of place"), choices=PlaceType
    )
    desk, technician_user = _finding_treatment_people(
        actor,
        campaign=campaign,
        unit=unit,
        technician=technician,
        nest_found=nest_found,
        treated_on_spot=treated_on_spot,
        photos=photos,
    )
    if row.inspected_at is None:
        CampaignUnit.objects.filter(pk=row.pk).update(inspected_at=moment, inspected_by=actor)
    warning = case = None
    if nest_found:
        warning = _finding_nest_warning(
            actor,
            campaign,
            unit,
            place_type,
            description,
            latitude=latitude,
            longitude=longitude,
            moment=moment,
        )
    if treated_on_spot:
        case = _finding_treated_case(
            desk, technician_user, campaign, unit, description, photos=photos, warning=warning, moment=moment
        )
    finding = Finding.objects.create(
        campaign_unit=row,
        org=unit,
        place_type=place_type,
        description=description,
        nest_found=bool(nest_found),
        treated_on_spot=bool(treated_on_spot),
        case=case,
        warning=warning,
        recorded_by=actor,
        recorded_at=moment,
    )
    audit.record(
        actor=actor,
        verb="finding.create",
        obj=finding,
        org_path=unit.path,
        details={"campaign": campaign.pk, "nest": bool(nest_found), "case": case.number if case else None},
        now=moment,
    )
    return finding


def _finding_treatment_people(
    actor,
    *,
    campaign: Campaign,
    unit: OrgUnit,
    technician,
    nest_found: bool,
    treated_on_spot: bool,
    photos: Sequence[ValidatedImage],
):
    """``(desk, technician)`` who log a treatment on the spot, ``(None, None)`` without one; a treatment
    needs a nest found, the campaign's contractor and a photo."""
    if treated_on_spot and not nest_found:
        raise UserError(
            "treated_without_nest",
            gettext_lazy("'Treated on the spot' needs a nest found"),
            field="treated_on_spot",
        )
    if not treated_on_spot:
        return None, None
    people = _on_spot_people(actor, campaign, unit, technician)
    if not photos:
        raise UserError("photo_required", gettext_lazy("Treatment on the spot needs a photo"), field="photo")
    return people


def _finding_nest_warning(
    actor,
    campaign: Campaign,
    unit: OrgUnit,
    place_type: str,
    description: str,
    *,
    latitude,
    longitude,
    moment: dt.datetime,
) -> Warning:
    """A nest found on patrol raises a patrol warning at the place (coordinates optional)."""
    return _warning_create(
        actor=actor,
        source=WarningSource.PATROL,
        place_type=place_type,
        org=unit,
        occurred_at=moment,
        latitude=_coordinate(latitude, field="latitude", low=-90, high=90),
        longitude=_coordinate(longitude, field="longitude", low=-180, high=180),
        description=f"{campaign.name}：{description}",
        now=moment,
    )


def _finding_treated_case(
    desk,
    technician,
    campaign: Campaign,
    unit: OrgUnit,
    description: str,
    *,
    photos: Sequence[ValidatedImage],
    warning: Warning,
    moment: dt.datetime,
) -> Case:
    """A nest treated on the spot: a completed case, linked to the nest's warning."""
    case = record_completed_case(
        desk=desk,
        technician=technician,
        contractor=campaign.contractor,
        org=unit,
        title=f"巡查发现白蚁巢：{unit.name}",
        description=description,
        photos=photos,
        now=moment,
    )
    Warning.objects.filter(pk=warning.pk).update(case=case)
    warning.case = case
    return case


def _on_spot_people(actor, campaign: Campaign, unit: OrgUnit, technician):
    contractor = campaign.contractor
    if contractor is None:
        raise UserError(
            "no_campaign_contractor",
            gettext_lazy("This campaign has no contractor; treatment on the spot cannot be recorded"),
            field="treated_on_spot",
        )
    staff_ids = set(contractor.users.filter(is_active=True).values_list("pk", flat=True))
    if actor.pk in staff_ids:
        technician = actor
    if technician is None or technician.pk not in staff_ids:
        raise UserError(
            "technician_required",
            gettext_lazy("Choose the %(name)s technician who treated the nest"),
            field="technician",
            name=contractor.name,
        )
    desk = actor if permissions.is_desk_for(actor, unit) else campaign.lead
    if not permissions.is_desk_for(desk, unit):
        raise NotAllowed(gettext_lazy("The campaign lead is not desk staff for this place"))
    return desk, technician


def record_completed_case(
    *,
    desk,
    technician,
    contractor: Contractor,
    org: OrgUnit,
    title: str,
    description: str,
    photos: Sequence[ValidatedImage],
    now: dt.datetime,
) -> Case:
    """A problem found and fixed on the spot, as a case that went through every step at once.

    The case services run in their order inside the caller's transaction: report (channel prevention),
    accept, dispatch, the contractor accepts, a visit slot one second later, check-in with the photo, the
    work steps, work done and close. The timeline therefore reads as it happened on site.
    """
    category = termite_category()
    case = case_services.case_report(
        actor=desk,
        category=category,
        org=org,
        channel=Channel.PREVENTION,
        title=title,
        description=description,
        address=org.name,
        now=now,
    )
    case = case_services.case_accept(actor=desk, case=case, now=now)
    case = case_services.case_dispatch(actor=desk, case=case, contractor=contractor, now=now)
    case = case_services.case_contractor_accept(actor=technician, case=case, now=now)
    on_site = now + ON_SPOT_SLOT
    case_services.case_book(
        actor=technician,
        case=case,
        slot_start=on_site,
        slot_end=on_site + dt.timedelta(minutes=30),
        note="巡查现场处置",
        now=now,
    )
    case = case_services.case_check_in(
        actor=technician, case=case, photos=list(photos), note=description, now=on_site
    )
    for step in (WorkStep.NEST_LOCATED, WorkStep.TREATED, WorkStep.CLEANED_UP):
        case_services.case_record_step(actor=technician, case=case, step=step, now=on_site)
    case = case_services.case_finish(actor=technician, case=case, note="巡查中现场处置完成", now=on_site)
    case = case_services.case_close(actor=desk, case=case, note="巡查中发现并现场处置", now=on_site)
    return case


@transaction.atomic
def campaign_close(*, actor, campaign: Campaign, now: dt.datetime | None = None) -> Campaign:
    moment = resolve_now(now)
    campaign = Campaign.objects.select_for_update().select_related("org").get(pk=campaign.pk)
    _require_desk(actor, campaign.org)
    if campaign.status == CampaignStatus.CLOSED:
        raise UserError("campaign_closed", gettext_lazy("This campaign is already closed"), field="campaign")
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.CLOSED)
    campaign.status = CampaignStatus.CLOSED
    audit.record(actor=actor, verb="campaign.close", obj=campaign, now=moment)
    return campaign


def estates_and_lanes(org: OrgUnit):
    """The estates and lanes under ``org`` (what a campaign covers by default)."""
    from kangle.orgs.selectors import subtree_q

    return OrgUnit.objects.filter(
        subtree_q(org.path), kind=OrgKind.ESTATE, estate_type__in=[EstateType.ESTATE, EstateType.LANE]
    ).order_by("path")


def aware(day: dt.date, *, end: bool = False) -> dt.datetime:
    """The local start of ``day`` (or of the next day when ``end``)."""
    if end:
        day = day + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
