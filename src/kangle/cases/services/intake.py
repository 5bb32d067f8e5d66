"""Intake: logging a case from any channel, and the duplicate hint."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from django.db import transaction
from django.http import Http404

from kangle.cases import permissions, questions
from kangle.cases.models import (
    Case,
    CaseCategory,
    Channel,
    EventKind,
)
from kangle.cases.services.clocks import clocks_start
from kangle.cases.services.common import (
    S,
    event_write,
    field_clean,
    media_url_clean,
    photos_attach,
    resident_notify,
)
from kangle.core import audit
from kangle.core.crypto import blind_index
from kangle.core.errors import NotAllowed, UserError
from kangle.core.masking import mask_address, mask_phone
from kangle.core.roles import Role
from kangle.core.text import is_mobile, normalise_phone, normalise_text
from kangle.core.timeutil import local, resolve_now
from kangle.core.uploads import ValidatedImage
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import scope_queryset

# GeoReport clients may send long descriptions; 4,000 characters is what the hotline systems send.
MAX_DESCRIPTION = 4000


def address_key(category: CaseCategory, address: str) -> str:
    """The duplicate-hint key: category and normalised address, hashed (the address is encrypted)."""
    folded = normalise_text(address).replace(" ", "").lower()
    return blind_index(f"case-address:{category.pk}:{folded}") if folded else ""


def open_duplicates(category: CaseCategory, address: str, *, actor):
    """Open cases of the same category at the same address that the actor may see (staff: their subtree;
    anyone else: the cases they reported) — a hint never names a case outside the actor's reach."""
    from kangle.cases.models import OPEN_STATUSES

    key = address_key(category, address)
    if not key or not getattr(actor, "is_authenticated", False):
        return Case.objects.none()
    rows = Case.objects.filter(address_hash=key, category=category, status__in=OPEN_STATUSES)
    return scope_queryset(actor, rows) | rows.filter(reporter=actor)


@transaction.atomic
def case_report(
    *,
    actor,
    category: CaseCategory,
    org: OrgUnit,
    channel: str,
    title: str,
    description: str = "",
    resident_name: str = "",
    phone: str = "",
    address: str = "",
    photos: Sequence[ValidatedImage] = (),
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    answers: Mapping[str, str | list[str]] | None = None,
    media_url: str = "",
    now: dt.datetime | None = None,
) -> Case:
    """Log a case (desk, grid patrol, online by a resident, Open311 or prevention) and start its clocks.

    ``answers`` answer the category's questions (checked by type and choice); ``media_url`` is a link to a
    photo held elsewhere, kept as given."""
    moment = resolve_now(now)
    if channel not in Channel.values:
        raise UserError("invalid_channel", "未知的受理渠道", "Unknown intake channel", field="channel")
    if channel == Channel.ONLINE:
        if not permissions.can_report_online(actor):
            raise NotAllowed("只有居民可以在线报事", "Only residents report online")
        if not any(
            org.path.startswith(unit.path) or unit.path.startswith(org.path)
            for unit in OrgUnit.objects.filter(pk__in=actor.units_for(Role.RESIDENT))
        ):
            raise UserError(
                "outside_home",
                "只能为您所在的居民区报事",
                "You can report only for your own community",
                field="org",
            )
    elif actor is not None and not permissions.can_intake(actor, org):
        raise Http404
    if not category.is_active or category.children.exists():
        raise UserError(
            "invalid_category",
            "请选择一个具体的问题类别",
            "Choose a specific, active category",
            field="category",
        )
    title = field_clean(title, field="title", zh="问题简述", en="Title", max_length=200)
    description = field_clean(
        description,
        field="description",
        zh="问题描述",
        en="Description",
        required=False,
        max_length=MAX_DESCRIPTION,
    )
    answers = questions.clean_answers(category, answers)
    media_url = media_url_clean(media_url)
    address = field_clean(
        address, field="address", zh="地址", en="Address", required=channel != Channel.OPEN311, max_length=200
    )
    resident_name = field_clean(
        resident_name,
        field="resident_name",
        zh="居民姓名",
        en="Resident's name",
        required=False,
        max_length=50,
    )
    phone = normalise_phone(phone)
    if channel == Channel.ONLINE and not phone:
        phone = actor.phone
    if phone and not is_mobile(phone):
        raise UserError(
            "invalid_phone",
            "手机号格式不正确（应为 11 位手机号）",
            "Malformed mobile number (11 digits)",
            field="phone",
        )
    if channel in (Channel.WALK_IN, Channel.PHONE_CALL) and not phone:
        raise UserError(
            "blank_phone",
            "请填写居民的手机号，用于预约上门和查询进度",
            "The resident's mobile number is needed to book the visit and to track the case",
            field="phone",
        )
    case = Case.objects.create(
        number=f"tmp-{moment.timestamp()}-{id(org)}"[:20],
        category=category,
        org=org,
        channel=channel,
        title=title,
        description=description,
        reporter=actor if channel == Channel.ONLINE else None,
        resident_name=resident_name or (actor.display_name if channel == Channel.ONLINE else ""),
        phone=phone,
        phone_mask=mask_phone(phone),
        address=address,
        address_mask=mask_address(address),
        address_hash=address_key(category, address),
        latitude=latitude,
        longitude=longitude,
        answers=answers,
        media_url=media_url,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        reported_at=moment,
    )
    case.number = f"MQ{local(moment):%y%m%d}{case.pk:05d}"
    Case.objects.filter(pk=case.pk).update(number=case.number)
    clocks_start(case, now=moment)
    event = event_write(
        case, EventKind.REPORTED, actor=actor, now=moment, to_status=S.REPORTED, data={"channel": channel}
    )
    photos_attach(case, event, photos, actor=actor, now=moment)
    audit.record(
        actor=actor,
        verb="case.report",
        obj=case,
        details={"channel": channel, "category": category.code},
        now=moment,
    )
    resident_notify(
        case,
        f"您反映的问题已登记，案件号 {case.number}",
        f"可凭案件号和手机尾号4位查询进度。{category.precautions[:60]}",
        now=moment,
    )
    return case
