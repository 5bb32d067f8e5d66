"""What the map draws: points of every kind with coordinates, in the person's scope, and the outline.

The outline is the convex hull of every coordinate the product holds for the area (venues, points, cases,
warnings), padded a little — drawn from the product's own data, so the map needs no outside request.
"""

from __future__ import annotations

import datetime as dt

from kangle.cases import selectors as case_selectors
from kangle.cases.models import OPEN_STATUSES
from kangle.orgs.models import OrgKind, OrgUnit, RegistrationPoint, Venue
from kangle.orgs.scope import scope_queryset
from kangle.prevention.models import MonitoringPoint, PointStatus, Warning
from kangle.reports.models import StreetSettings

LAYERS = ("venues", "points", "monitoring", "warnings", "cases")
CLOCKS = ("overdue", "warning", "on_track")
PER_LAYER = 2000
WARNING_MONTHS = 12


def _rows(queryset, *fields) -> list[tuple]:
    return list(queryset.values_list(*fields)[:PER_LAYER])


def features(actor, *, layers: set[str], clocks: set[str], now: dt.datetime) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {layer: [] for layer in LAYERS}
    if "venues" in layers:
        venues = scope_queryset(actor, Venue.objects.filter(is_active=True, latitude__isnull=False))
        found["venues"] = [_point(n, la, lo) for n, la, lo in _rows(venues, "name", "latitude", "longitude")]
    if "points" in layers:
        points = scope_queryset(
            actor, RegistrationPoint.objects.filter(is_active=True, venue__latitude__isnull=False)
        )
        found["points"] = [
            _point(n, la, lo) for n, la, lo in _rows(points, "name", "venue__latitude", "venue__longitude")
        ]
    if "monitoring" in layers:
        monitoring = scope_queryset(actor, MonitoringPoint.objects.filter(status=PointStatus.ACTIVE))
        found["monitoring"] = [
            _point(n, la, lo) for n, la, lo in _rows(monitoring, "name", "latitude", "longitude")
        ]
    if "warnings" in layers:
        since = now - dt.timedelta(days=31 * WARNING_MONTHS)
        warnings = scope_queryset(
            actor, Warning.objects.filter(latitude__isnull=False, occurred_at__gte=since), "org_path"
        )
        found["warnings"] = [
            _point(f"{at:%Y-%m-%d}", la, lo)
            for at, la, lo in _rows(warnings, "occurred_at", "latitude", "longitude")
        ]
    if "cases" in layers:
        open_cases = case_selectors.staff_cases(actor).filter(
            status__in=OPEN_STATUSES, latitude__isnull=False
        )
        overdue, warning = case_selectors.overdue_q(now), case_selectors.warning_q(now)
        by_clock = {
            "overdue": open_cases.filter(overdue),
            "warning": open_cases.filter(warning),
            "on_track": open_cases.exclude(overdue).exclude(warning),
        }
        for clock in CLOCKS:
            if clock in clocks:
                found["cases"] += [
                    _point(n, la, lo, clock=clock)
                    for n, la, lo in _rows(by_clock[clock], "number", "latitude", "longitude")
                ]
    return found


def _point(name, latitude, longitude, **extra) -> dict:
    return {"name": str(name), "value": [float(longitude), float(latitude)], **extra}


def outline(actor, *, now: dt.datetime) -> dict | None:
    """A GeoJSON polygon around every coordinate of the area (all layers, whatever the filter)."""
    everything = features(actor, layers=set(LAYERS), clocks=set(CLOCKS), now=now)
    coordinates = {tuple(p["value"]) for layer in everything.values() for p in layer}
    if not coordinates:
        return None
    hull = _convex_hull(sorted(coordinates))
    if len(hull) < 3:
        (x0, y0), (x1, y1) = min(coordinates), max(coordinates)
        hull = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    cx = sum(x for x, _y in hull) / len(hull)
    cy = sum(y for _x, y in hull) / len(hull)
    pad = 0.004  # about 400 m: the outline is around the points, not through them
    ring = [[x + (pad if x >= cx else -pad), y + (pad if y >= cy else -pad)] for x, y in hull]
    ring.append(ring[0])
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "area"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }


def _convex_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Andrew's monotone chain."""
    if len(points) < 3:
        return points

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    for p in points:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list = []
    for p in reversed(points):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def street_of_user(actor) -> OrgUnit | None:
    """The street whose base map this person sees: the street at or above their first staff node."""
    streets = OrgUnit.objects.filter(kind=OrgKind.STREET).order_by("path")
    if actor.is_superuser and not actor.scope_paths:
        return streets.first()
    for path in actor.scope_paths:
        for street in streets:
            if path.startswith(street.path) or street.path.startswith(path):
                return street
    return None


def tile_layer(street: OrgUnit | None) -> StreetSettings | None:
    if street is None:
        return None
    setting = StreetSettings.objects.filter(street=street).first()
    return setting if setting and setting.tile_url else None
