"""Every change to the organisation tree, venues and registration points."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _

from kangle.core import audit
from kangle.core.errors import NotAllowed, UserError
from kangle.orgs import moves
from kangle.orgs.models import CODE_PATTERN, KIND_RANK, OrgKind, OrgUnit, RegistrationPoint, Venue, VenueKind
from kangle.orgs.permissions import can_manage_tree
from kangle.orgs.selectors import subtree_q

_CODE_RE = re.compile(CODE_PATTERN)


def _check_code(code: str, model) -> str:
    code = (code or "").strip()
    if not _CODE_RE.match(code):
        raise UserError(
            "invalid_code",
            _("A code may hold only letters, digits, - and _, 1 to 40 characters"),
            field="code",
        )
    if model.objects.filter(code=code).exists():
        raise UserError(
            "duplicate_code", _("Code %(code_value)s already exists"), field="code", code_value=code
        )
    return code


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise UserError("blank_name", _("The name must not be blank"), field="name")
    return name


def _check_child_kind(kind: str, parent: OrgUnit | None) -> None:
    if kind not in KIND_RANK:
        raise UserError("invalid_kind", _("Unknown kind: %(kind)s"), field="kind", kind=kind)
    if parent is None:
        if kind != OrgKind.DISTRICT:
            raise UserError("parent_required", _("Only a district may have no parent"), field="parent")
        return
    if KIND_RANK[kind] <= KIND_RANK[parent.kind]:
        raise UserError(
            "invalid_kind",
            _("A unit of kind %(kind)s cannot sit under one of kind %(parent)s"),
            field="kind",
            kind=OrgKind(kind).label,
            parent=OrgKind(parent.kind).label,
        )


def build_path(parent: OrgUnit | None, code: str) -> str:
    return (parent.path if parent else "/") + code + "/"


@transaction.atomic
def orgunit_create(
    *,
    actor,
    kind: str,
    code: str,
    name: str,
    parent: OrgUnit | None,
    sort_order: int = 0,
    now: dt.datetime | None = None,
) -> OrgUnit:
    if parent is None:
        if not actor.is_superuser:
            raise NotAllowed()
    elif not can_manage_tree(actor, parent):
        raise NotAllowed()
    _check_child_kind(kind, parent)
    code = _check_code(code, OrgUnit)
    unit = OrgUnit.objects.create(
        kind=kind,
        code=code,
        name=_check_name(name),
        parent=parent,
        path=build_path(parent, code),
        depth=(parent.depth + 1) if parent else 0,
        sort_order=sort_order,
    )
    audit.record(actor=actor, verb="orgunit.create", obj=unit, details={"kind": kind, "code": code}, now=now)
    return unit


@transaction.atomic
def orgunit_update(
    *,
    actor,
    unit: OrgUnit,
    name: str | None = None,
    sort_order: int | None = None,
    is_active: bool | None = None,
    now: dt.datetime | None = None,
) -> OrgUnit:
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    if not can_manage_tree(actor, unit):
        raise NotAllowed()
    changes = {}
    if name is not None and name.strip() != unit.name:
        changes["name"] = [unit.name, _check_name(name)]
        unit.name = name.strip()
    if sort_order is not None and sort_order != unit.sort_order:
        changes["sort_order"] = [unit.sort_order, sort_order]
        unit.sort_order = sort_order
    if is_active is not None and is_active != unit.is_active:
        changes["is_active"] = [unit.is_active, is_active]
        unit.is_active = is_active
    if changes:
        unit.save(update_fields=[field for field in changes])
        audit.record(actor=actor, verb="orgunit.update", obj=unit, details=changes, now=now)
    return unit


@transaction.atomic
def orgunit_move(*, actor, unit: OrgUnit, new_parent: OrgUnit, now: dt.datetime | None = None) -> OrgUnit:
    """Put ``unit`` (and its subtree) under ``new_parent``; the paths change in one UPDATE."""
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    new_parent = OrgUnit.objects.get(pk=new_parent.pk)
    if not (can_manage_tree(actor, unit) and can_manage_tree(actor, new_parent)):
        raise NotAllowed()
    if new_parent.path.startswith(unit.path):
        raise UserError(
            "move_into_own_subtree",
            _("A unit cannot be moved under itself or one of its descendants"),
            field="parent",
        )
    _check_child_kind(unit.kind, new_parent)
    old_path, old_parent_code = unit.path, unit.parent.code if unit.parent else None
    new_path = build_path(new_parent, unit.code)
    depth_change = new_parent.depth + 1 - unit.depth
    OrgUnit.objects.filter(subtree_q(old_path)).update(
        path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1)),
        depth=F("depth") + depth_change,
    )
    OrgUnit.objects.filter(pk=unit.pk).update(parent=new_parent)
    unit.refresh_from_db()
    moves.moved(unit, actor)  # what other apps placed in the subtree follows it, or refuses the move
    audit.record(
        actor=actor,
        verb="orgunit.move",
        obj=unit,
        details={"from": old_parent_code, "to": new_parent.code, "old_path": old_path},
        now=now,
    )
    return unit


def _check_coordinates(latitude, longitude) -> tuple[Decimal | None, Decimal | None]:
    if latitude in (None, "") and longitude in (None, ""):
        return None, None
    try:
        lat, lng = Decimal(str(latitude)), Decimal(str(longitude))
    except Exception:
        raise UserError("invalid_coordinates", _("Coordinates are malformed"), field="latitude") from None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise UserError("invalid_coordinates", _("Coordinates are out of range"), field="latitude")
    return lat.quantize(Decimal("0.000001")), lng.quantize(Decimal("0.000001"))


@transaction.atomic
def venue_create(
    *,
    actor,
    org: OrgUnit,
    kind: str,
    name: str,
    address: str,
    latitude=None,
    longitude=None,
    opening_hours: str = "",
    now: dt.datetime | None = None,
) -> Venue:
    if not can_manage_tree(actor, org):
        raise NotAllowed()
    if kind not in VenueKind.values:
        raise UserError("invalid_kind", _("Unknown venue kind: %(kind)s"), field="kind", kind=kind)
    if not (address or "").strip():
        raise UserError("blank_address", _("The address must not be blank"), field="address")
    lat, lng = _check_coordinates(latitude, longitude)
    venue = Venue.objects.create(
        org=org,
        kind=kind,
        name=_check_name(name),
        address=address.strip(),
        latitude=lat,
        longitude=lng,
        opening_hours=opening_hours.strip(),
    )
    audit.record(actor=actor, verb="venue.create", obj=venue, now=now)
    return venue


@transaction.atomic
def registration_point_create(
    *, actor, org: OrgUnit, code: str, name: str, venue: Venue | None = None, now: dt.datetime | None = None
) -> RegistrationPoint:
    if not can_manage_tree(actor, org):
        raise NotAllowed()
    if org.kind not in RegistrationPoint.ALLOWED_KINDS:
        raise UserError(
            "invalid_org", _("A registration point sits on a street, an area or a community"), field="org"
        )
    if venue is not None and not venue.org.is_within(org) and not org.is_within(venue.org):
        raise UserError("invalid_venue", _("The venue is outside this unit"), field="venue")
    point = RegistrationPoint.objects.create(
        org=org, code=_check_code(code, RegistrationPoint), name=_check_name(name), venue=venue
    )
    audit.record(actor=actor, verb="registration_point.create", obj=point, now=now)
    return point


@transaction.atomic
def registration_point_set_active(
    *, actor, point: RegistrationPoint, is_active: bool, now: dt.datetime | None = None
) -> RegistrationPoint:
    point = RegistrationPoint.objects.select_for_update().select_related("org").get(pk=point.pk)
    if not can_manage_tree(actor, point.org):
        raise NotAllowed()
    if point.is_active != is_active:
        point.is_active = is_active
        point.save(update_fields=["is_active"])
        audit.record(
            actor=actor,
            verb="registration_point.activate" if is_active else "registration_point.deactivate",
            obj=point,
            now=now,
        )
    return point
