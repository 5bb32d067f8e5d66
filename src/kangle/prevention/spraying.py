"""Preventive spraying of green belts (对小区绿化带喷洒药水): a campaign action next to inspection.

The article: "结合辖区内老旧小区多、砖木结构房屋较密集的特点，街道组织专业人员对小区绿化带喷洒药水，斩断病媒传播链。"
A spraying is recorded against an estate on the campaign's list (anything else is refused), by a
contractor, with the agent used (free text) and at least one photo; the figures count the estates sprayed
in a period under a node, and the map data lists them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Count, Max
from django.utils.translation import gettext_lazy as _

from kangle.cases.models import Contractor
from kangle.core import audit, cleaners
from kangle.core.errors import UserError
from kangle.core.timeutil import resolve_now
from kangle.core.uploads import ValidatedImage
from kangle.orgs.models import OrgUnit
from kangle.orgs.selectors import subtree_q
from kangle.prevention import permissions
from kangle.prevention.models import Campaign, Spraying, SprayingPhoto
from kangle.prevention.services import aware, campaign_require_open, campaign_unit_lock

MAX_PHOTOS = 6


@transaction.atomic
def spraying_record(
    *,
    actor,
    campaign: Campaign,
    unit: OrgUnit,
    sprayed_at: dt.datetime,
    agent: str,
    photos: Sequence[ValidatedImage],
    contractor: Contractor | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> Spraying:
    """Record that ``unit``'s green belts were sprayed under ``campaign`` (by its contractor unless another
    covering one is named)."""
    moment = resolve_now(now)
    campaign = campaign_require_open(campaign)
    permissions.require_overlap(actor, campaign.org)
    permissions.require_inspector(actor, unit)
    row = campaign_unit_lock(campaign, unit)
    agent = cleaners.text(agent, field="agent", label=_("Agent name"), max_length=200)
    note = cleaners.text(note, field="note", label=_("Where and how much"), required=False, max_length=300)
    _spraying_time_check(sprayed_at, campaign=campaign, moment=moment)
    contractor = _spraying_contractor(contractor or campaign.contractor, unit)
    _spraying_photos_check(photos)
    spraying = Spraying.objects.create(
        campaign=campaign,
        campaign_unit=row,
        org=unit,
        org_path=unit.path,
        sprayed_at=sprayed_at,
        contractor=contractor,
        agent=agent,
        note=note,
        recorded_by=actor,
        recorded_at=moment,
    )
    SprayingPhoto.objects.bulk_create(
        [
            SprayingPhoto(
                spraying=spraying,
                file=photo.as_file(),
                content_type=photo.content_type,
                size=photo.size,
                uploaded_at=moment,
            )
            for photo in photos
        ]
    )
    audit.record(
        actor=actor,
        verb="spraying.create",
        obj=spraying,
        org_path=unit.path,
        details={"campaign": campaign.pk, "agent": agent, "contractor": contractor.pk},
        now=moment,
    )
    return spraying


def _spraying_time_check(sprayed_at: dt.datetime | None, *, campaign: Campaign, moment: dt.datetime) -> None:
    """An aware time, not in the future, not before the campaign started."""
    if sprayed_at is None or sprayed_at.tzinfo is None:
        raise UserError("blank_sprayed_at", _("When was it sprayed?"), field="sprayed_at")
    if sprayed_at > moment:
        raise UserError("sprayed_in_future", _("The spraying cannot be in the future"), field="sprayed_at")
    if sprayed_at < aware(campaign.starts_on):
        raise UserError(
            "sprayed_before_campaign",
            _("The spraying is before the campaign started (%(starts_on)s)"),
            field="sprayed_at",
            starts_on=f"{campaign.starts_on:%Y-%m-%d}",
        )


def _spraying_contractor(contractor: Contractor | None, unit: OrgUnit) -> Contractor:
    """The contractor who sprayed: named, active and covering ``unit``."""
    if contractor is None:
        raise UserError("blank_contractor", _("Name the contractor who sprayed"), field="contractor")
    if not contractor.is_active or not unit.path.startswith(contractor.org.path):
        raise UserError(
            "contractor_not_covering",
            _("The contractor '%(name)s' does not cover '%(name2)s'"),
            field="contractor",
            name=contractor.name,
            name2=unit.name,
        )
    return contractor


def _spraying_photos_check(photos: Sequence[ValidatedImage]) -> None:
    """One to ``MAX_PHOTOS`` photos."""
    if not photos:
        raise UserError("photo_required", _("Add at least one photo"), field="photos")
    if len(photos) > MAX_PHOTOS:
        raise UserError(
            "too_many_photos", _("At most %(MAX_PHOTOS)s photos"), field="photos", MAX_PHOTOS=MAX_PHOTOS
        )


def sprayings_under(org: OrgUnit | None, start: dt.datetime, end: dt.datetime):
    rows = Spraying.objects.filter(sprayed_at__gte=start, sprayed_at__lt=end)
    if org is not None:
        rows = rows.filter(subtree_q(org.path, "org_path"))
    return rows


def sprayed_estates(org: OrgUnit | None, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """The estates sprayed in [start, end) under ``org``, one row each (the map's data): one GROUP BY."""
    rows = (
        sprayings_under(org, start, end)
        .values("org__code", "org__name")
        .annotate(times=Count("id"), last=Max("sprayed_at"))
        .order_by("org__code")
    )
    return [
        {"code": row["org__code"], "name": row["org__name"], "times": row["times"], "last": row["last"]}
        for row in rows
    ]
