"""Intake: logging a case from any channel, and the duplicate hint."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _

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
    photos_attach,
    resident_notify,
)
from kangle.core import audit, cleaners
from kangle.core.crypto import blind_index
from kangle.core.errors import NotAllowed, UserError
from kangle.core.masking import mask_address, mask_phone
from kangle.core.rawrows import bound_rows
from kangle.core.roles import Role, person_key
from kangle.core.text import is_mobile, normalise_phone, normalise_text
from kangle.core.timeutil import local, resolve_now
from kangle.core.uploads import ValidatedImage
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import scope_q

# GeoReport clients may send long descriptions; 4,000 characters is what the hotline systems send.
MAX_DESCRIPTION = 4000


def address_key(category: CaseCategory, address: str) -> str:
    """The duplicate-hint key: category and normalised address, hashed (the address is encrypted)."""
    folded = normalise_text(address).replace(" ", "").lower()
    return blind_index(f"case-address:{category.pk}:{folded}") if folded else ""


def open_duplicates(category: CaseCategory, address: str, *, actor):
    """Open cases of the same category at the same address that the actor may see (staff: their subtree;
    anyone else: the cases they reported) — a hint never names a case outside the actor's reach."""
    key = address_key(category, address)
    if not key or not getattr(actor, "is_authenticated", False):
        return Case.objects.none()
    return _open_at(key, actor)


def duplicate_numbers(category: CaseCategory, address: str, *, actor, besides: int) -> list[str]:
    """The numbers of up to five open cases ``open_duplicates`` finds, newest first, other than case
    ``besides``: the read compiled once per person (the reach is theirs), the address key (which holds the
    category) and the case bound into it — building the query cost more than the database's answer."""
    key = address_key(category, address)
    if not key or not getattr(actor, "is_authenticated", False):
        return []

    def build(address_hash, excluded):
        return _open_at(address_hash, actor).exclude(pk=excluded).values("number")[:5]

    rows = bound_rows(("cases.duplicates", person_key(actor)), build, (key, besides))
    return [row["number"] for row in rows]


def _open_at(address_hash: str, actor):
    from kangle.cases.models import OPEN_STATUSES

    # The key holds the category (``address_key``), so the category is not asked again: a plan made without
    # the values takes a category for as rare as any other, and then read the category's index too.
    rows = Case.objects.filter(address_hash=address_hash, status__in=OPEN_STATUSES)
    reach = scope_q(actor)
    if reach is None:
        return rows
    # One condition on the address and the reach, not a union of two filtered copies: the address is then a
    # single index condition, also in a prepared statement's plan made without the values.
    return rows.filter(reach | Q(reporter=actor))


def case_number_next(moment: dt.datetime) -> str:
    """The next case number, ``MQ`` + the local date + a counter that no two transactions ever share: a
    PostgreSQL sequence, or on SQLite a one-row counter bumped inside the caller's transaction (SQLite
    admits one writer at a time). Needs no row of its own, so the case is inserted once, number and all."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval('cases_case_number_seq')")
        else:
            cursor.execute(
                "UPDATE cases_case_number_counter SET value = value + 1 WHERE id = 1 RETURNING value"
            )
        (value,) = cursor.fetchone()
    return f"MQ{local(moment):%y%m%d}{value:05d}"


def _intake_check(actor, *, category: CaseCategory, org: OrgUnit, channel: str) -> None:
    """Who may log a case here, and in which category (a leaf, still in use)."""
    cleaners.choice(channel, field="channel", label=_("Intake channel"), choices=Channel)
    if channel == Channel.ONLINE:
        if not permissions.can_report_online(actor):
            raise NotAllowed(_("Only residents report online"))
        if not any(
            org.path.startswith(unit.path) or unit.path.startswith(org.path)
            for unit in OrgUnit.objects.filter(pk__in=actor.units_for(Role.RESIDENT))
        ):
            raise UserError("outside_home", _("You can report only for your own community"), field="org")
    elif actor is not None and not permissions.can_intake(actor, org):
        raise Http404
    has_children = getattr(category, "has_children", None)
    if has_children is None:
        has_children = category.children.exists()
    if not category.is_active or has_children:
        raise UserError("invalid_category", _("Choose a specific, active category"), field="category")


def _intake_phone(actor, phone: str, *, channel: str) -> str:
    phone = normalise_phone(phone)
    if channel == Channel.ONLINE and not phone:
        phone = actor.phone
    if phone and not is_mobile(phone):
        raise UserError("invalid_phone", _("Malformed mobile number (11 digits)"), field="phone")
    if channel in (Channel.WALK_IN, Channel.PHONE_CALL) and not phone:
        raise UserError(
            "blank_phone",
            _("The resident's mobile number is needed to book the visit and to track the case"),
            field="phone",
        )
    return phone


def _intake_texts(*, channel: str, title, description, address, resident_name, media_url) -> dict:
    return {
        "title": cleaners.text(title, field="title", label=_("Summary of the problem"), max_length=200),
        "description": cleaners.text(
            description,
            field="description",
            label=_("Description of the problem"),
            required=False,
            max_length=MAX_DESCRIPTION,
        ),
        "media_url": cleaners.http_url(media_url, field="media_url", label=_("Media link (media_url)")),
        "address": cleaners.text(
            address, field="address", label=_("Address"), required=channel != Channel.OPEN311, max_length=200
        ),
        "resident_name": cleaners.text(
            resident_name, field="resident_name", label=_("Resident's name"), required=False, max_length=50
        ),
    }


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

    One transaction: the case is inserted once (its number comes from ``case_number_next``), then its
    clocks (one bulk insert), the timeline event, the audit event and the resident's notice. ``category``
    may come from ``reference_cache.category_for_intake`` (policy, milestones and questions loaded).
    ``answers`` answer the category's questions (checked by type and choice); ``media_url`` is a link to a
    photo held elsewhere, kept as given."""
    moment = resolve_now(now)
    _intake_check(actor, category=category, org=org, channel=channel)
    texts = _intake_texts(
        channel=channel,
        title=title,
        description=description,
        address=address,
        resident_name=resident_name,
        media_url=media_url,
    )
    answers = questions.clean_answers(category, answers)
    phone = _intake_phone(actor, phone, channel=channel)
    online = channel == Channel.ONLINE
    resident_name = texts.pop("resident_name") or (actor.display_name if online else "")
    case = Case.objects.create(
        number=case_number_next(moment),
        category=category,
        org=org,
        channel=channel,
        **texts,
        reporter=actor if online else None,
        resident_name=resident_name,
        phone=phone,
        phone_mask=mask_phone(phone),
        address_mask=mask_address(texts["address"]),
        address_hash=address_key(category, texts["address"]),
        latitude=latitude,
        longitude=longitude,
        answers=answers,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        reported_at=moment,
    )
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
        _("Your report has been registered, case number %(number)s"),
        _("Track it with the case number and the last 4 digits of your phone. %(precautions)s"),
        params={"number": case.number, "precautions": category.precautions[:60]},
        now=moment,
    )
    return case
