from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Schema


class PointOut(Schema):
    id: int
    code: str
    name: str
    org_code: str
    org_name: str
    latitude: Decimal
    longitude: Decimal
    place_type: str
    device_type: str
    bait_type: str
    installed_on: dt.date
    status: str
    retired_on: dt.date | None

    @staticmethod
    def resolve_org_code(obj):
        return obj.org.code

    @staticmethod
    def resolve_org_name(obj):
        return obj.org.name


class PointIn(Schema):
    code: str
    name: str
    org_code: str
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    place_type: str
    device_type: str
    bait_type: str
    installed_on: dt.date | None = None
    note: str = ""


class RoundOut(Schema):
    id: int
    name: str
    org_code: str
    started_at: dt.datetime
    closed_at: dt.datetime | None
    reading_count: int = 0
    positive_count: int = 0

    @staticmethod
    def resolve_org_code(obj):
        return obj.org.code


class RoundIn(Schema):
    org_code: str
    name: str = ""


class ReadingIn(Schema):
    point_code: str
    activity_found: bool
    bait_consumed_pct: int
    note: str = ""
    open_case: bool = False


class ReadingOut(Schema):
    id: int
    round_id: int
    point_code: str
    activity_found: bool
    bait_consumed_pct: int
    note: str
    has_photo: bool
    recorded_at: dt.datetime
    warning_id: int | None
    case_number: str | None

    @staticmethod
    def resolve_point_code(obj):
        return obj.point.code

    @staticmethod
    def resolve_has_photo(obj):
        return bool(obj.photo)

    @staticmethod
    def resolve_warning_id(obj):
        warning = getattr(obj, "warning", None)
        return warning.pk if warning else None

    @staticmethod
    def resolve_case_number(obj):
        warning = getattr(obj, "warning", None)
        return warning.case.number if warning and warning.case_id else None


class WarningOut(Schema):
    id: int
    source: str
    place_type: str
    org_code: str
    org_name: str
    community_name: str | None
    occurred_at: dt.datetime
    latitude: Decimal | None
    longitude: Decimal | None
    description: str
    case_number: str | None

    @staticmethod
    def resolve_org_code(obj):
        return obj.org.code

    @staticmethod
    def resolve_org_name(obj):
        return obj.org.name

    @staticmethod
    def resolve_community_name(obj):
        return obj.community.name if obj.community_id else None

    @staticmethod
    def resolve_case_number(obj):
        return obj.case.number if obj.case_id else None


class WarningIn(Schema):
    org_code: str
    place_type: str
    occurred_at: dt.datetime | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    description: str = ""
    source: str = "patrol"


class WarningFromCaseIn(Schema):
    case_number: str
    place_type: str


class CaseRef(Schema):
    number: str
    status: str


class TeamIn(Schema):
    role: str
    name: str


class CampaignIn(Schema):
    name: str
    org_code: str
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    unit_codes: list[str] | None = None
    all_estates_and_lanes: bool = False
    team: list[TeamIn] = []
    contractor_id: int | None = None


class CampaignOut(Schema):
    id: int
    name: str
    org_code: str
    starts_on: dt.date
    ends_on: dt.date
    status: str
    contractor: str | None
    team: list[TeamIn]
    summary: dict

    @staticmethod
    def resolve_org_code(obj):
        return obj.org.code

    @staticmethod
    def resolve_contractor(obj):
        return obj.contractor.name if obj.contractor_id else None

    @staticmethod
    def resolve_team(obj):
        return [{"role": member.role, "name": member.name} for member in obj.team.all()]

    @staticmethod
    def resolve_summary(obj):
        from kangle.prevention.selectors import campaign_summary

        return campaign_summary(obj)


class CampaignListOut(Schema):
    id: int
    name: str
    org_code: str
    starts_on: dt.date
    ends_on: dt.date
    status: str
    unit_total: int
    unit_done: int

    @staticmethod
    def resolve_org_code(obj):
        return obj.org.code


class CampaignUnitOut(Schema):
    unit_code: str
    unit_name: str
    estate_type: str
    inspected_at: dt.datetime | None
    note: str
    finding_count: int = 0
    nest_count: int = 0

    @staticmethod
    def resolve_unit_code(obj):
        return obj.unit.code

    @staticmethod
    def resolve_unit_name(obj):
        return obj.unit.name

    @staticmethod
    def resolve_estate_type(obj):
        return obj.unit.estate_type


class InspectIn(Schema):
    unit_code: str
    note: str = ""


class FindingIn(Schema):
    unit_code: str
    description: str
    place_type: str
    nest_found: bool = False
    treated_on_spot: bool = False
    technician: str = ""


class FindingOut(Schema):
    id: int
    unit_code: str
    description: str
    place_type: str
    nest_found: bool
    treated_on_spot: bool
    case_number: str | None
    warning_id: int | None

    @staticmethod
    def resolve_unit_code(obj):
        return obj.org.code

    @staticmethod
    def resolve_case_number(obj):
        return obj.case.number if obj.case_id else None


class SprayingIn(Schema):
    unit_code: str
    sprayed_at: dt.datetime
    agent: str
    note: str = ""
    contractor_id: int | None = None


class SprayingOut(Schema):
    id: int
    campaign: int
    unit_code: str
    unit_name: str
    sprayed_at: dt.datetime
    contractor: str
    agent: str
    note: str
    photos: list[str]

    @staticmethod
    def of(row) -> dict:
        from django.urls import reverse

        return {
            "id": row.pk,
            "campaign": row.campaign_id,
            "unit_code": row.org.code,
            "unit_name": row.org.name,
            "sprayed_at": row.sprayed_at,
            "contractor": row.contractor.name,
            "agent": row.agent,
            "note": row.note,
            "photos": [reverse("file", args=["spraying-photo", photo.pk]) for photo in row.photos.all()],
        }
