import datetime as dt
from decimal import Decimal

import pytest
from django.http import Http404

from kangle.cases.models import Case, CaseEvent, CaseMilestone, CaseStatus, Channel, EventKind, MilestoneState
from kangle.core.errors import NotAllowed, UserError
from kangle.core.models import AuditEvent
from kangle.orgs.models import EstateType, OrgKind
from kangle.prevention import services
from kangle.prevention.models import (
    CampaignUnit,
    Finding,
    PlaceType,
    PointStatus,
    Reading,
    Warning,
    WarningSource,
)
from personas import make_unit
from prevention.conftest import T0, make_point

pytestmark = pytest.mark.django_db


def read(personas, inspection_round, point, *, actor=None, activity=False, pct=10, **extra):
    return services.reading_record(
        actor=actor or personas.secretary_a,
        inspection_round=inspection_round,
        point=point,
        activity_found=activity,
        bait_consumed_pct=pct,
        now=T0 + dt.timedelta(minutes=5),
        **extra,
    )


# --- points -----------------------------------------------------------------------------------------------
def test_point_create_stores_location_device_and_audit(personas, point):
    assert point.org == personas.tree.estate_a
    assert point.status == PointStatus.ACTIVE and point.bait_type == "氟铃脲饵剂"
    assert point.latitude == Decimal("31.164000")
    assert AuditEvent.objects.filter(verb="point.create", object_id=str(point.pk)).exists()


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"latitude": "91"}, "invalid_latitude"),
        ({"longitude": "abc"}, "invalid_longitude"),
        ({"latitude": None}, "blank_coordinates"),
        ({"installed_on": dt.date(2026, 7, 1)}, "installed_in_future"),
        ({"place_type": "garden"}, "invalid_place_type"),
        ({"code": "  "}, "blank_code"),
    ],
)
def test_point_create_bad_input_names_the_field(personas, extra, code):
    args = {
        "actor": personas.street_admin,
        "code": "MPX",
        "name": "诱饵站",
        "org": personas.tree.estate_a,
        "latitude": "31.1",
        "longitude": "121.4",
        "place_type": PlaceType.GREEN_BELT,
        "device_type": "地下诱饵站",
        "bait_type": "饵剂",
        "installed_on": dt.date(2026, 3, 1),
        "now": T0,
    }
    args.update(extra)
    with pytest.raises(UserError) as error:
        services.point_create(**args)
    assert error.value.code == code
    assert error.value.field and error.value.zh and error.value.en
    assert not Warning.objects.exists()


def test_point_create_duplicate_code_and_outsider(personas, point):
    with pytest.raises(UserError) as error:
        make_point(personas, code=point.code)
    assert error.value.code == "duplicate_code"
    with pytest.raises(Http404):
        services.point_create(
            actor=personas.secretary_b,
            code="MPZ",
            name="x",
            org=personas.tree.estate_a,
            latitude=1,
            longitude=1,
            place_type=PlaceType.OTHER,
            device_type="d",
            bait_type="b",
            installed_on=dt.date(2026, 1, 1),
            now=T0,
        )


def test_point_create_wrong_role_is_refused(personas):
    with pytest.raises(NotAllowed):
        services.point_create(
            actor=personas.grid_leader,
            code="MPG",
            name="x",
            org=personas.tree.grid_a,
            latitude=1,
            longitude=1,
            place_type=PlaceType.OTHER,
            device_type="d",
            bait_type="b",
            installed_on=dt.date(2026, 1, 1),
            now=T0,
        )


# --- readings ---------------------------------------------------------------------------------------------
def test_negative_reading_raises_no_warning(personas, inspection_round, point):
    reading = read(personas, inspection_round, point, pct=5)
    assert reading.bait_consumed_pct == 5 and not reading.activity_found
    assert not Warning.objects.exists()


def test_positive_reading_raises_a_warning_at_the_point(personas, inspection_round, point):
    reading = read(personas, inspection_round, point, activity=True, pct=60)
    warning = Warning.objects.get()
    assert warning.reading == reading
    assert warning.source == WarningSource.MONITORING
    assert warning.place_type == point.place_type
    assert warning.community == personas.tree.community_a
    assert warning.org_path == point.org.path
    assert (warning.latitude, warning.longitude) == (point.latitude, point.longitude)
    assert warning.occurred_at == T0 + dt.timedelta(minutes=5)
    assert warning.case is None


def test_positive_reading_opens_a_case_in_one_step(personas, inspection_round, point, termite):
    read(personas, inspection_round, point, activity=True, pct=60, open_case=True)
    warning = Warning.objects.select_related("case").get()
    case = warning.case
    assert case.channel == Channel.PREVENTION and case.category == termite
    assert case.status == CaseStatus.REPORTED and case.org == point.org
    assert CaseMilestone.objects.filter(case=case).count() == 2


def test_open_case_on_negative_reading_is_refused_and_nothing_written(personas, inspection_round, point):
    with pytest.raises(UserError) as error:
        read(personas, inspection_round, point, activity=False, open_case=True)
    assert error.value.code == "nothing_to_open"


def test_reading_for_a_retired_point_is_refused(personas, inspection_round, point):
    services.point_retire(actor=personas.street_admin, point=point, now=T0)
    with pytest.raises(UserError) as error:
        read(personas, inspection_round, point, activity=True)
    assert error.value.code == "point_retired" and error.value.field == "point"
    assert "已停用" in error.value.zh and "retired" in error.value.en
    assert not Reading.objects.exists() and not Warning.objects.exists()


def test_retiring_twice_is_refused(personas, point):
    services.point_retire(actor=personas.street_admin, point=point, now=T0)
    with pytest.raises(UserError):
        services.point_retire(actor=personas.street_admin, point=point, now=T0)


def test_two_readings_for_one_point_in_one_round_are_refused(personas, inspection_round, point):
    read(personas, inspection_round, point, activity=True)
    with pytest.raises(UserError) as error:
        read(personas, inspection_round, point, activity=True, actor=personas.area_admin)
    assert error.value.code == "duplicate_reading" and error.value.status == 409
    assert Reading.objects.count() == 1 and Warning.objects.count() == 1


def test_same_point_in_the_next_round_is_fine(personas, inspection_round, point):
    read(personas, inspection_round, point)
    services.round_close(actor=personas.street_admin, inspection_round=inspection_round, now=T0)
    second = services.round_open(actor=personas.street_admin, org=personas.tree.street, now=T0)
    read(personas, second, point)
    assert Reading.objects.filter(point=point).count() == 2


def test_reading_on_a_closed_round_is_refused(personas, inspection_round, point):
    services.round_close(actor=personas.street_admin, inspection_round=inspection_round, now=T0)
    with pytest.raises(UserError) as error:
        read(personas, inspection_round, point)
    assert error.value.code == "round_closed"


@pytest.mark.parametrize("pct", [101, -1, "abc", None])
def test_reading_bait_percentage_must_be_0_to_100(personas, inspection_round, point, pct):
    with pytest.raises(UserError) as error:
        read(personas, inspection_round, point, pct=pct)
    assert error.value.field == "bait_consumed_pct"


def test_reading_by_an_outsider_is_404(personas, inspection_round, point):
    with pytest.raises(Http404):
        read(personas, inspection_round, point, actor=personas.secretary_b)


def test_contractor_staff_read_points_their_role_covers(personas, inspection_round, point, technician):
    read(personas, inspection_round, point, actor=technician, activity=True)
    assert Warning.objects.get().recorded_by == technician
    with pytest.raises(Http404):  # persona "contractor" covers 湖南街道 only
        read(personas, inspection_round, point, actor=personas.contractor)


def test_reading_for_a_point_outside_the_rounds_area(personas, point):
    small = services.round_open(actor=personas.street_admin, org=personas.tree.community_b, now=T0)
    with pytest.raises(UserError) as error:
        read(personas, small, point, actor=personas.street_admin)
    assert error.value.code == "point_outside_round"


def test_reading_photo_is_stored(personas, inspection_round, point, photo):
    reading = read(personas, inspection_round, point, photo=photo)
    assert reading.photo.name.startswith("prevention/") and reading.photo.size == photo.size


# --- warnings ---------------------------------------------------------------------------------------------
def test_patrol_warning_and_bad_input(personas):
    warning = services.warning_record(
        actor=personas.grid_leader,
        org=personas.tree.grid_a,
        place_type=PlaceType.SHOP,
        occurred_at=T0 - dt.timedelta(hours=1),
        now=T0,
    )
    assert warning.source == WarningSource.PATROL and warning.community == personas.tree.community_a
    with pytest.raises(UserError) as error:
        services.warning_record(
            actor=personas.grid_leader,
            org=personas.tree.grid_a,
            place_type=PlaceType.SHOP,
            occurred_at=T0 + dt.timedelta(days=1),
            now=T0,
        )
    assert error.value.code == "occurred_in_future"
    with pytest.raises(UserError) as error:
        services.warning_record(
            actor=personas.grid_leader,
            org=personas.tree.grid_a,
            place_type=PlaceType.SHOP,
            source=WarningSource.MONITORING,
            now=T0,
        )
    assert error.value.code == "invalid_source"
    with pytest.raises(Http404):
        services.warning_record(
            actor=personas.secretary_b, org=personas.tree.grid_a, place_type="shop", now=T0
        )


def test_warning_opens_a_case_once_and_only_by_the_desk(personas, termite):
    warning = services.warning_record(
        actor=personas.grid_leader, org=personas.tree.grid_a, place_type=PlaceType.OLD_HOUSE, now=T0
    )
    with pytest.raises(NotAllowed):
        services.warning_open_case(actor=personas.grid_leader, warning=warning, now=T0)
    with pytest.raises(Http404):
        services.warning_open_case(actor=personas.secretary_b, warning=warning, now=T0)
    case = services.warning_open_case(actor=personas.secretary_a, warning=warning, now=T0)
    assert case.channel == Channel.PREVENTION
    warning.refresh_from_db()
    assert warning.case == case
    with pytest.raises(UserError) as error:
        services.warning_open_case(actor=personas.secretary_a, warning=warning, now=T0)
    assert error.value.code == "warning_has_case"
    assert Case.objects.count() == 1


def test_resident_case_becomes_a_warning_once(personas, termite):
    from kangle.cases.services import case_report

    case = case_report(
        actor=personas.secretary_a,
        category=termite,
        org=personas.tree.estate_a,
        channel=Channel.WALK_IN,
        title="家中发现白蚁",
        resident_name="王阿姨",
        phone="13812345678",
        address="康健路 300 弄 5 号",
        now=T0,
    )
    warning = services.warning_from_case(
        actor=personas.secretary_a, case=case, place_type="old_house", now=T0
    )
    assert (
        warning.source == WarningSource.RESIDENT_CASE and warning.occurred_at == T0 and warning.case == case
    )
    with pytest.raises(UserError) as error:
        services.warning_from_case(actor=personas.secretary_a, case=case, place_type="old_house", now=T0)
    assert error.value.code == "case_already_warned"
    with pytest.raises(Http404):
        services.warning_from_case(actor=personas.secretary_b, case=case, place_type="old_house", now=T0)


# --- campaigns --------------------------------------------------------------------------------------------
def test_campaign_dates_and_units_are_checked(personas, contractor_org):
    base = {
        "actor": personas.area_admin,
        "name": "巡查",
        "org": personas.tree.community_a,
        "units": [personas.tree.estate_a],
        "team": [],
        "now": T0,
    }
    with pytest.raises(UserError) as error:
        services.campaign_create(**base, starts_on=dt.date(2026, 6, 30), ends_on=dt.date(2026, 6, 1))
    assert error.value.code == "end_before_start" and error.value.field == "ends_on"
    with pytest.raises(UserError) as error:
        services.campaign_create(
            **{**base, "units": [personas.tree.grid_a]},
            starts_on=dt.date(2026, 6, 1),
            ends_on=dt.date(2026, 6, 2),
        )
    assert error.value.code == "unit_not_estate"
    with pytest.raises(UserError) as error:
        services.campaign_create(
            **{**base, "team": [("army", "x")]}, starts_on=dt.date(2026, 6, 1), ends_on=dt.date(2026, 6, 2)
        )
    assert error.value.code == "invalid_team_role"
    with pytest.raises(Http404):
        services.campaign_create(
            **{**base, "actor": personas.secretary_b},
            starts_on=dt.date(2026, 6, 1),
            ends_on=dt.date(2026, 6, 2),
        )


def test_mark_inspected_and_summary(personas, campaign):
    row = services.campaign_mark_inspected(
        actor=personas.secretary_a, campaign=campaign, unit=personas.tree.estate_a, note="未发现", now=T0
    )
    assert row.inspected_at == T0 and row.inspected_by == personas.secretary_a
    from kangle.prevention.selectors import campaign_summary

    summary = campaign_summary(campaign)
    assert summary["total"] == 1 and summary["inspected"] == 1 and summary["pct"] == 100
    assert summary["estates"] == 1 and summary["lanes"] == 0


def test_finding_for_an_estate_outside_the_campaign_is_refused(personas, campaign):
    other = make_unit(
        personas.tree.community_a, OrgKind.ESTATE, "KJ-C01-E2", "康乐2小区", estate_type=EstateType.LANE
    )
    with pytest.raises(UserError) as error:
        services.finding_record(
            actor=personas.secretary_a,
            campaign=campaign,
            unit=other,
            description="发现蚁路",
            place_type=PlaceType.OLD_HOUSE,
            nest_found=True,
            now=T0,
        )
    assert error.value.code == "unit_not_in_campaign" and error.value.field == "unit"
    assert "康乐2小区" in error.value.zh
    assert not Finding.objects.exists() and not Warning.objects.exists()
    with pytest.raises(UserError):
        services.campaign_mark_inspected(actor=personas.secretary_a, campaign=campaign, unit=other, now=T0)
    with pytest.raises(Http404):  # an estate outside the inspector's scope does not exist for them
        services.finding_record(
            actor=personas.secretary_a,
            campaign=campaign,
            unit=personas.tree.estate_b,
            description="x",
            place_type=PlaceType.OLD_HOUSE,
            now=T0,
        )


def test_nest_treated_on_the_spot_is_a_completed_case(personas, campaign, technician, photo, termite):
    finding = services.finding_record(
        actor=personas.secretary_a,
        campaign=campaign,
        unit=personas.tree.estate_a,
        description="木门框内发现蚁巢",
        place_type=PlaceType.OLD_HOUSE,
        nest_found=True,
        treated_on_spot=True,
        photos=[photo],
        technician=technician,
        now=T0,
    )
    case = Case.objects.get(pk=finding.case_id)
    assert case.status == CaseStatus.CLOSED and case.channel == Channel.PREVENTION
    assert case.contractor == campaign.contractor and case.closed_at == T0 + dt.timedelta(seconds=1)
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    for kind in (
        EventKind.REPORTED,
        EventKind.ACCEPTED,
        EventKind.DISPATCHED,
        EventKind.CONTRACTOR_ACCEPTED,
        EventKind.BOOKED,
        EventKind.CHECKED_IN,
        EventKind.STEP,
        EventKind.WORK_DONE,
        EventKind.CLOSED,
    ):
        assert kind in kinds
    assert set(CaseMilestone.objects.filter(case=case).values_list("state", flat=True)) == {
        MilestoneState.MET
    }
    assert finding.warning.source == WarningSource.PATROL and finding.warning.case_id == case.pk
    assert CampaignUnit.objects.get(campaign=campaign).inspected_at == T0
    from kangle.prevention.selectors import campaign_summary

    summary = campaign_summary(campaign)
    assert (summary["nests"], summary["treated"], summary["cases_closed"]) == (1, 1, 1)


def test_contractor_staff_record_on_spot_with_the_lead_as_desk(personas, campaign, technician, photo):
    finding = services.finding_record(
        actor=technician,
        campaign=campaign,
        unit=personas.tree.estate_a,
        description="绿化带树根处发现蚁巢",
        place_type=PlaceType.GREEN_BELT,
        nest_found=True,
        treated_on_spot=True,
        photos=[photo],
        now=T0,
    )
    case = finding.case
    assert case.status == CaseStatus.CLOSED
    accepted = CaseEvent.objects.get(case=case, kind=EventKind.ACCEPTED)
    checked_in = CaseEvent.objects.get(case=case, kind=EventKind.CHECKED_IN)
    assert accepted.actor == campaign.lead and checked_in.actor == technician


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"nest_found": False, "treated_on_spot": True}, "treated_without_nest"),
        ({"nest_found": True, "treated_on_spot": True, "technician": None}, "technician_required"),
        ({"nest_found": True, "treated_on_spot": True, "photos": []}, "photo_required"),
        ({"place_type": "palace"}, "invalid_place_type"),
        ({"description": " "}, "blank_description"),
    ],
)
def test_finding_bad_input_writes_nothing(personas, campaign, technician, photo, extra, code):
    args = {
        "actor": personas.secretary_a,
        "campaign": campaign,
        "unit": personas.tree.estate_a,
        "description": "发现蚁巢",
        "place_type": PlaceType.OLD_HOUSE,
        "photos": [photo],
        "technician": technician,
        "now": T0,
    }
    args.update(extra)
    with pytest.raises(UserError) as error:
        services.finding_record(**args)
    assert error.value.code == code
    assert not Finding.objects.exists() and not Case.objects.exists() and not Warning.objects.exists()
    assert CampaignUnit.objects.get(campaign=campaign).inspected_at is None


def test_closed_campaign_takes_no_findings(personas, campaign):
    services.campaign_close(actor=personas.area_admin, campaign=campaign, now=T0)
    with pytest.raises(UserError) as error:
        services.campaign_mark_inspected(
            actor=personas.secretary_a, campaign=campaign, unit=personas.tree.estate_a, now=T0
        )
    assert error.value.code == "campaign_closed"
