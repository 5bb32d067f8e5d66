"""Org tree, venues and registration points: /api/v1/orgs/…, all scoped to the caller's subtree."""

from __future__ import annotations

from ninja import Router
from ninja.pagination import paginate

from kangle.core.pagination import Listing, Pagination, paginate_trusted
from kangle.core.roles import person_key
from kangle.orgs import services
from kangle.orgs.access import access_unit, unit_path
from kangle.orgs.models import OrgUnit, RegistrationPoint, Venue
from kangle.orgs.schemas import (
    RegistrationPointCreateIn,
    RegistrationPointOut,
    UnitCreateIn,
    UnitMoveIn,
    UnitOut,
    UnitUpdateIn,
    VenueCreateIn,
    VenueOut,
)
from kangle.orgs.scope import get_in_scope_or_404, scope_queryset
from kangle.orgs.selectors import subtree_q

router = Router(tags=["orgs"])


def _unit(request, code: str) -> OrgUnit:
    return access_unit(request.user, code)


UNIT_FIELDS = ("code", "name", "kind", "estate_type", "path", "depth", "is_active")


def _unit_row(row: dict) -> dict:
    """A ``UNIT_FIELDS`` row as ``UnitOut`` documents it (the parent's code is the path's second last)."""
    codes = [code for code in row["path"].split("/") if code]
    return {
        "code": row["code"],
        "name": row["name"],
        "kind": row["kind"],
        "estate_type": row["estate_type"],
        "parent_code": codes[-2] if len(codes) > 1 else None,
        "path": row["path"],
        "depth": row["depth"],
        "is_active": row["is_active"],
    }


@router.get("/units", response=list[UnitOut])
@paginate_trusted(page_size=100)
def list_units(request, kind: str | None = None, under: str | None = None, q: str | None = None):
    """Units in the caller's scope; ``under`` narrows to one subtree, ``kind`` to one level."""
    actor = request.user
    path = unit_path(actor, under) if under else ""

    def build(*wanted_kind) -> list:
        units = scope_queryset(actor, OrgUnit.objects.all(), path_field="path")
        if path:
            units = units.filter(subtree_q(path))
        if wanted_kind:
            units = units.filter(kind=wanted_kind[0])
        if q:
            units = units.filter(name__contains=q.strip())
        return [units.order_by("path").values(*UNIT_FIELDS)]

    values = (kind,) if kind else ()
    if q:  # a search by name runs through the ORM: its pattern cannot be bound
        return Listing(build(*values)[0], row=_unit_row, seek=("path",))
    # The subtree's path is part of the key, not a bound value: a prefix match is written from it.
    key = ("orgs.units", person_key(actor), path)
    return Listing.shaped(key, build, values, row=_unit_row, seek=("path",))


@router.get("/units/{code}", response=UnitOut)
def get_unit(request, code: str):
    return _unit(request, code)


@router.get("/units/{code}/children", response=list[UnitOut])
@paginate(Pagination, page_size=100)
def unit_children(request, code: str):
    return Listing(_unit(request, code).children.order_by("sort_order", "code", "id"))


@router.post("/units", response={201: UnitOut})
def create_unit(request, payload: UnitCreateIn):
    parent = _unit(request, payload.parent_code)
    unit = services.orgunit_create(
        actor=request.user,
        kind=payload.kind,
        code=payload.code,
        name=payload.name,
        parent=parent,
        sort_order=payload.sort_order,
    )
    return 201, unit


@router.patch("/units/{code}", response=UnitOut)
def update_unit(request, code: str, payload: UnitUpdateIn):
    return services.orgunit_update(
        actor=request.user, unit=_unit(request, code), **payload.dict(exclude_unset=True)
    )


@router.post("/units/{code}/move", response=UnitOut)
def move_unit(request, code: str, payload: UnitMoveIn):
    return services.orgunit_move(
        actor=request.user, unit=_unit(request, code), new_parent=_unit(request, payload.parent_code)
    )


@router.get("/venues", response=list[VenueOut])
@paginate(Pagination, page_size=100)
def list_venues(request, under: str | None = None, kind: str | None = None):
    venues = scope_queryset(request.user, Venue.objects.select_related("org"))
    if under:
        venues = venues.filter(subtree_q(_unit(request, under).path, "org__path"))
    if kind:
        venues = venues.filter(kind=kind)
    return venues.order_by("org__path", "name")


@router.post("/venues", response={201: VenueOut})
def create_venue(request, payload: VenueCreateIn):
    data = payload.dict()
    org = _unit(request, data.pop("org_code"))
    return 201, services.venue_create(actor=request.user, org=org, **data)


@router.get("/registration-points", response=list[RegistrationPointOut])
@paginate(Pagination, page_size=100)
def list_registration_points(request, under: str | None = None, active: bool | None = None):
    points = scope_queryset(request.user, RegistrationPoint.objects.select_related("org"))
    if under:
        points = points.filter(subtree_q(_unit(request, under).path, "org__path"))
    if active is not None:
        points = points.filter(is_active=active)
    return points.order_by("org__path", "code")


@router.get("/registration-points/{code}", response=RegistrationPointOut)
def get_registration_point(request, code: str):
    return get_in_scope_or_404(request.user, RegistrationPoint.objects.select_related("org"), code=code)


@router.post("/registration-points", response={201: RegistrationPointOut})
def create_registration_point(request, payload: RegistrationPointCreateIn):
    org = _unit(request, payload.org_code)
    venue = None
    if payload.venue_id is not None:
        venue = get_in_scope_or_404(request.user, Venue.objects.select_related("org"), pk=payload.venue_id)
    point = services.registration_point_create(
        actor=request.user, org=org, code=payload.code, name=payload.name, venue=venue
    )
    return 201, point
