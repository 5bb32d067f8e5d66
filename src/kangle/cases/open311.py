"""Open311 GeoReport v2 at /open311/v2/ — services, service definitions, requests — in JSON and XML.

Services are the active leaf categories (service_code = category code). POST requests needs ``api_key``:
an API token issued by a street admin (the same tokens as /api/v1/), acting as a staff user who may log
cases; the case is placed at ``address_id`` (an org unit code in that user's subtree) or, with only
``lat``/``long``, at the token user's own unit for the desk to refine. GET is open to the public and shows
no personal data (no phone, name, description, a shortened address and coordinates rounded to about
100 m, the scale the shortened address implies); with a valid ``api_key`` it is limited to the token
user's subtree and includes the description, still with the address masked, and every such read writes an
audit event (who read which requests).

Status mapping (GeoReport has ``open`` and ``closed``; ``status_notes`` carries ours):
  open   ← reported, accepted, dispatched, assigned, booked, contacted, on_site, work_done, rework
  closed ← closed, cancelled
``expected_datetime`` is the due time of the case's last milestone (the whole job, e.g. 48 h for 白蚁),
moved by pauses and approved extensions.

A category with questions is a service with ``metadata: true``; its definition lists them as attributes,
answered on POST as ``attribute[code]`` (``attribute[code][]`` for several choices). A list without
``start_date``/``end_date`` covers the last ``DEFAULT_DAYS`` days; a window longer than ``MAX_DAYS`` is
refused. ``status`` takes ``open``, ``closed`` or both comma-separated.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree as ET  # noqa: S405 (only used to build documents, never to parse input)

from django.db.models import F
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from kangle.accounts.services import token_authenticate
from kangle.cases import reference_cache, services
from kangle.cases.models import OPEN_STATUSES, Case, CaseCategory, CaseStatus, Channel, QuestionType
from kangle.core import audit
from kangle.core.errors import UserError
from kangle.core.timeutil import now as current_time
from kangle.orgs.models import OrgKind, OrgUnit, Venue
from kangle.orgs.scope import in_scope, scope_queryset

MAX_REQUESTS = 1000
COORDINATE_STEP = Decimal("0.001")
DEFAULT_DAYS = 90
MAX_DAYS = 90
ATTRIBUTE = re.compile(r"attribute\[([A-Za-z0-9_-]{1,40})\](\[\])?")


class Open311Error(Exception):
    def __init__(self, code: int, description: str):
        self.code, self.description = code, description
        super().__init__(description)


# --- rendering --------------------------------------------------------------------------------------------
def _render(fmt: str, root: str, item: str, rows: list[dict], status: int = 200) -> HttpResponse:
    if fmt == "json":
        return JsonResponse(rows, safe=False, status=status, json_dumps_params={"ensure_ascii": False})
    element = ET.Element(root)
    for row in rows:
        child = ET.SubElement(element, item)
        for key, value in row.items():
            _xml_value(child, key, value)
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(
        element, encoding="utf-8", xml_declaration=False
    )
    return HttpResponse(body, content_type="text/xml; charset=utf-8", status=status)


def _xml_value(parent, key: str, value) -> None:
    node = ET.SubElement(parent, key)
    if isinstance(value, list):
        for entry in value:
            sub = ET.SubElement(node, key.rstrip("s") or "value")
            if isinstance(entry, dict):
                for k, v in entry.items():
                    _xml_value(sub, k, v)
            else:
                sub.text = _xml_text(entry)
    else:
        node.text = _xml_text(value)


def _xml_text(value) -> str:
    """A value as Open311 XML element text: booleans as true/false, times in ISO 8601, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def _error(fmt: str, code: int, description: str) -> HttpResponse:
    return _render(fmt, "errors", "error", [{"code": code, "description": description}], status=code)


def _guard(view):
    def wrapped(request, *args, fmt: str = "json", **kwargs):
        if fmt not in ("json", "xml"):
            return _error("json", 404, "format must be json or xml / 格式只能是 json 或 xml")
        try:
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as error:
            return _error(fmt, error.code, error.description)
        except UserError as error:
            return _error(
                fmt, error.status if error.status in (400, 403, 404, 409) else 400, f"{error.zh} / {error.en}"
            )

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(wrapped)


# --- services ---------------------------------------------------------------------------------------------
def _leaf_categories():
    return (
        CaseCategory.objects.filter(is_active=True, children__isnull=True)
        .select_related("parent", "policy")
        .prefetch_related("questions")
    )


def _service(category: CaseCategory) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or category.policy.name,
        "metadata": bool(category.questions.all()),
        "type": "realtime",
        "keywords": category.parent.name if category.parent else "",
        "group": category.parent.name if category.parent else "",
    }


@_guard
def services_list(request, *, fmt):
    return _render(
        fmt, "services", "service", [_service(c) for c in _leaf_categories().order_by("sort_order", "code")]
    )


def _attribute(question) -> dict:
    listed = question.datatype in (QuestionType.SINGLE, QuestionType.MULTI)
    row = {
        "variable": True,
        "code": question.code,
        "datatype": question.datatype,
        "required": question.required,
        "datatype_description": str(QuestionType(question.datatype).label),
        "order": question.order,
        "description": question.question,
    }
    if listed:
        row["values"] = [{"key": v.get("key"), "name": v.get("name")} for v in question.values or []]
    return row


@_guard
def service_definition(request, code: str, *, fmt):
    category = reference_cache.category_for_intake(code)
    if category is None or not category.is_active or category.has_children:
        raise Open311Error(404, f"service_code not found: {code} / 没有这个服务代码")
    attributes = [_attribute(question) for question in category.questions.all()]
    body = {"service_code": category.code, "attributes": attributes}
    if fmt == "json":
        return JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    element = ET.Element("service_definition")
    ET.SubElement(element, "service_code").text = category.code
    listing = ET.SubElement(element, "attributes")
    for attribute in attributes:
        node = ET.SubElement(listing, "attribute")
        for key, value in attribute.items():
            if key == "values":
                values = ET.SubElement(node, "values")
                for entry in value:
                    item = ET.SubElement(values, "value")
                    ET.SubElement(item, "key").text = _xml_text(entry["key"])
                    ET.SubElement(item, "name").text = _xml_text(entry["name"])
            else:
                ET.SubElement(node, key).text = _xml_text(value)
    return HttpResponse(
        b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(element, encoding="utf-8"),
        content_type="text/xml; charset=utf-8",
    )


# --- discovery --------------------------------------------------------------------------------------------
@_guard
def discovery(request, *, fmt):
    """Where this endpoint is and what it speaks (GeoReport service discovery)."""
    base = request.build_absolute_uri(reverse("open311:services", kwargs={"fmt": "json"})).rsplit("/", 1)[0]
    endpoint = {
        "specification": "http://wiki.open311.org/GeoReport_v2",
        "url": f"{base}/",
        "changeset": "2026-06-01T00:00:00+08:00",
        "type": "production",
        "formats": ["application/json", "text/xml"],
    }
    body = {
        "changeset": endpoint["changeset"],
        "contact": "民情快办工作站 / the case desk of the sub-district office",
        "key_service": "api_key 由街道管理员签发 / api_key is issued by a street admin",
        "endpoints": [endpoint],
    }
    if fmt == "json":
        return JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    element = ET.Element("discovery")
    for key in ("changeset", "contact", "key_service"):
        ET.SubElement(element, key).text = body[key]
    endpoints = ET.SubElement(element, "endpoints")
    node = ET.SubElement(endpoints, "endpoint")
    for key in ("specification", "url", "changeset", "type"):
        ET.SubElement(node, key).text = endpoint[key]
    formats = ET.SubElement(node, "formats")
    for value in endpoint["formats"]:
        ET.SubElement(formats, "format").text = value
    return HttpResponse(
        b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(element, encoding="utf-8"),
        content_type="text/xml; charset=utf-8",
    )


# --- requests ---------------------------------------------------------------------------------------------
def _api_user(request, *, required: bool):
    key = (request.POST.get("api_key") if request.method == "POST" else request.GET.get("api_key")) or ""
    if not key:
        if required:
            raise Open311Error(403, "api_key required / 需要 api_key")
        return None
    user = token_authenticate(key)
    if user is None:
        raise Open311Error(403, "api_key invalid / api_key 无效")
    return user


def _status(case: Case) -> str:
    return "open" if case.status in OPEN_STATUSES else "closed"


def _request_row(case: Case, *, full: bool) -> dict:
    clocks = list(case.milestones.all())
    expected = clocks[-1].deadline if clocks else None
    updated = max((e.at for e in case.events.all()), default=case.reported_at)
    notes = f"{case.status}: {CaseStatus(case.status).label}"
    return {
        "service_request_id": case.number,
        "status": _status(case),
        "status_notes": notes,
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": case.description or case.title if full else "",
        "agency_responsible": case.contractor.name if case.contractor else "",
        "service_notice": case.category.precautions[:200],
        "requested_datetime": timezone.localtime(case.reported_at),
        "updated_datetime": timezone.localtime(updated),
        "expected_datetime": timezone.localtime(expected) if expected else None,
        "address": case.masked_address,
        "address_id": case.org.code,
        "zipcode": "",
        "lat": _coarse(case.latitude),
        "long": _coarse(case.longitude),
        "media_url": case.media_url if full else "",
    }


def _coarse(value: Decimal | None) -> Decimal | None:
    """Three decimals (about 100 m): no finer than the masked address, which keeps the road and lane."""
    return None if value is None else Decimal(value).quantize(COORDINATE_STEP)


def _audit_read(user, rows: list[dict]) -> None:
    """A keyed read shows descriptions of people's cases: record who read which."""
    paths = user.scope_paths
    audit.record(
        actor=user,
        verb="case.api_read",
        object_type="cases.case",
        object_id="",
        org_path=paths[0] if len(paths) == 1 else "",
        details={"count": len(rows), "numbers": [row["service_request_id"] for row in rows[:100]]},
    )


def _requests_queryset(user):
    from django.db.models import Prefetch

    from kangle.cases.models import CaseEvent, CaseMilestone

    cases = Case.objects.all() if user is None else scope_queryset(user, Case.objects.all())
    return cases.select_related("category", "org", "contractor").prefetch_related(
        Prefetch("milestones", queryset=CaseMilestone.objects.order_by("round", "milestone__order")),
        Prefetch("events", queryset=CaseEvent.objects.only("id", "case_id", "at")),
    )


def _parse_date(value: str, name: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date-time / {name} 时间格式不正确") from None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _window(params) -> tuple[dt.datetime, dt.datetime]:
    """The reporting window: ``DEFAULT_DAYS`` back from ``end_date`` (or now, or ``start_date`` forward);
    never longer than ``MAX_DAYS`` and never backwards."""
    start = _parse_date(params["start_date"], "start_date") if params.get("start_date") else None
    end = _parse_date(params["end_date"], "end_date") if params.get("end_date") else None
    if end is None:
        end = start + dt.timedelta(days=DEFAULT_DAYS) if start is not None else current_time()
    if start is None:
        start = end - dt.timedelta(days=DEFAULT_DAYS)
    if end < start:
        raise Open311Error(400, "end_date is before start_date / end_date 早于 start_date")
    if end - start > dt.timedelta(days=MAX_DAYS):
        raise Open311Error(
            400, f"the date range is longer than {MAX_DAYS} days / 查询时间范围不能超过 {MAX_DAYS} 天"
        )
    return start, end


@_guard
def requests_view(request, *, fmt):
    if request.method == "POST":
        return _post_request(request, fmt)
    if request.method != "GET":
        raise Open311Error(405, "method not allowed / 不支持的请求方法")
    user = _api_user(request, required=False)
    cases = _requests_queryset(user)
    params = request.GET
    if params.get("service_request_id"):
        ids = [part.strip() for part in params["service_request_id"].split(",") if part.strip()][
            :MAX_REQUESTS
        ]
        cases = cases.filter(number__in=ids)
    else:
        start, end = _window(params)
        cases = cases.filter(reported_at__gte=start, reported_at__lte=end)
        if params.get("service_code"):
            cases = cases.filter(category__code__in=[c.strip() for c in params["service_code"].split(",")])
        statuses = {part.strip() for part in params.get("status", "").split(",") if part.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(
                400, "status must be open, closed or open,closed / status 只能是 open、closed 或 open,closed"
            )
        if statuses == {"open"}:
            cases = cases.filter(status__in=OPEN_STATUSES)
        elif statuses == {"closed"}:
            cases = cases.exclude(status__in=OPEN_STATUSES)
    rows = [
        _request_row(case, full=user is not None) for case in cases.order_by("-reported_at")[:MAX_REQUESTS]
    ]
    if user is not None:
        _audit_read(user, rows)
    return _render(fmt, "service_requests", "request", rows)


@_guard
def request_detail(request, number: str, *, fmt):
    user = _api_user(request, required=False)
    case = _requests_queryset(user).filter(number=number).first()
    if case is None:
        raise Open311Error(404, f"service_request_id not found: {number} / 没有这个案件")
    rows = [_request_row(case, full=user is not None)]
    if user is not None:
        _audit_read(user, rows)
    return _render(fmt, "service_requests", "request", rows)


def _decimal(value: str, name: str) -> Decimal:
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        raise Open311Error(400, f"{name} must be a number / {name} 必须是数字") from None
    if not number.is_finite():
        raise Open311Error(400, f"{name} must be a number / {name} 必须是数字")
    return number.quantize(Decimal("0.000001"))


def _post_request(request, fmt: str) -> HttpResponse:
    user = _api_user(request, required=True)
    data = request.POST
    code = (data.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code required / 需要 service_code")
    category = reference_cache.category_for_intake(code)
    if category is None or not category.is_active or category.has_children:
        raise Open311Error(400, f"service_code not found: {code} / 没有这个服务代码")
    lat, lng = data.get("lat", "").strip(), data.get("long", "").strip()
    address_id, address = data.get("address_id", "").strip(), data.get("address_string", "").strip()
    if not (address_id or address or (lat and lng)):
        raise Open311Error(
            400, "a location is required: lat and long, address_string or address_id / 需要提供地点"
        )
    latitude = _decimal(lat, "lat") if lat else None
    longitude = _decimal(lng, "long") if lng else None
    if (
        latitude is not None
        and not -90 <= latitude <= 90
        or longitude is not None
        and not -180 <= longitude <= 180
    ):
        raise Open311Error(400, "lat/long out of range / 经纬度超出范围")
    if not user.scope_paths and not user.is_superuser:
        raise Open311Error(403, "api_key does not belong to a staff account / api_key 不属于工作人员账号")
    if address_id:
        org = scope_queryset(user, OrgUnit.objects.all(), "path").filter(code=address_id).first()
        if org is None:
            raise Open311Error(400, f"address_id not found: {address_id} / 没有这个地点代码")
    else:
        org = _place_of_location(user, latitude, longitude)
    name = " ".join(part for part in (data.get("last_name", ""), data.get("first_name", "")) if part).strip()
    description = data.get("description", "").strip()
    answers = _attributes(data)
    case = services.case_report(
        actor=user,
        category=category,
        org=org,
        channel=Channel.OPEN311,
        title=(description or category.name)[:60],
        description=description,
        resident_name=name,
        phone=data.get("phone", ""),
        address=address or (f"{latitude},{longitude}" if latitude is not None else ""),
        latitude=latitude,
        longitude=longitude,
        answers=answers,
        media_url=data.get("media_url", ""),
    )
    row = {"service_request_id": case.number, "service_notice": category.precautions[:200], "account_id": ""}
    return _render(fmt, "service_requests", "request", [row], status=201)


def _attributes(data) -> dict[str, str | list[str]]:
    """``attribute[code]=v`` and ``attribute[code][]=v1&attribute[code][]=v2`` into ``{code: v or [v…]}``."""
    answers: dict[str, str | list[str]] = {}
    for key in data:
        match = ATTRIBUTE.fullmatch(key)
        if match is None:
            continue
        code, many = match.group(1), match.group(2)
        answers[code] = data.getlist(key) if many else data.get(key, "")
    return answers


def _place_of_location(user, latitude: Decimal | None, longitude: Decimal | None) -> OrgUnit:
    """Where a case given only by coordinates lands: the street of the nearest located venue in the key's
    scope (the street's desk refines the place), or the key user's own unit when nothing near is known."""
    own = OrgUnit.objects.filter(path__in=user.scope_paths).order_by("depth").first()
    if latitude is not None and longitude is not None:
        venues = scope_queryset(user, Venue.objects.filter(is_active=True), "org__path").filter(
            latitude__isnull=False, longitude__isnull=False
        )
        nearest = (
            venues.annotate(
                distance=(F("latitude") - latitude) * (F("latitude") - latitude)
                + (F("longitude") - longitude) * (F("longitude") - longitude)
            )
            .select_related("org")
            .order_by("distance", "pk")
            .first()
        )
        if nearest is not None:
            street = (
                OrgUnit.objects.filter(code__in=nearest.org.ancestor_codes(), kind=OrgKind.STREET)
                .order_by("-depth")
                .first()
            )
            if street is not None and in_scope(user, street.path):
                return street
            return own or nearest.org  # a key below the street: its own unit, which holds the venue
    if own is None or own.kind == OrgKind.DISTRICT:
        raise Open311Error(
            400,
            "address_id required: the location is in no street we know / 无法确定所在街道，请提供 address_id",
        )
    return own
