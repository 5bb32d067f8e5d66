"""/api/v1/cases/…: everything the desk, contractor and resident pages do, as JSON.

Staff see cases in their subtree; a contractor sees the cases dispatched to them; a resident the cases
they reported. Anything else is a 404.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate

from kangle.cases import figures, permissions, reference_cache, selectors, services
from kangle.cases.access import access_case
from kangle.cases.models import Case, CaseCategory, Channel, Contractor, ExtensionRequest
from kangle.core.errors import UserError
from kangle.core.pagination import Listing, Pagination, paginate_trusted
from kangle.core.renderers import trusted_json
from kangle.core.timeutil import now as current_time
from kangle.core.uploads import validate_images
from kangle.orgs.access import access_unit
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import get_in_scope_or_404

router = Router(tags=["cases"])


class ClockOut(Schema):
    code: str
    name: str
    deadline: dt.datetime
    state: str
    colour: str
    met_at: dt.datetime | None


class CaseOut(Schema):
    number: str
    category: str
    category_name: str
    org_code: str
    org_name: str
    status: str
    channel: str
    title: str
    description: str
    phone: str
    address: str
    contractor: str | None
    reported_at: dt.datetime
    closed_at: dt.datetime | None
    paused: bool
    clocks: list[ClockOut]


class CaseDetailOut(CaseOut):
    events: list[dict]
    duplicates: list[str] = []


class CaseIn(Schema):
    category: str
    org: str
    channel: str = Channel.WALK_IN
    title: str
    description: str = ""
    resident_name: str = ""
    phone: str = ""
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None


class DispatchIn(Schema):
    contractor: int | None = None


class CaseReasonIn(Schema):
    reason: str


class NoteIn(Schema):
    note: str = ""


class BookIn(Schema):
    slot_start: dt.datetime
    slot_end: dt.datetime
    note: str = ""


class FeedbackIn(Schema):
    satisfied: bool
    rating: int
    comment: str = ""


class ExtensionIn(Schema):
    milestone: str
    hours: int
    reason: str


class DecisionIn(Schema):
    approve: bool


class CaseCategoryOut(Schema):
    code: str
    name: str
    parent: str | None
    policy: str
    precautions: str
    milestones: list[dict]


def _clock_out(view: selectors.ClockView) -> dict:
    return {
        "code": view.code,
        "name": view.name,
        "deadline": view.deadline,
        "state": view.state,
        "colour": view.colour,
        "met_at": view.met_at,
    }


def _out(case: Case, clocks: list[selectors.ClockView]) -> dict:
    return {
        "number": case.number,
        "category": case.category.code,
        "category_name": case.category.name,
        "org_code": case.org.code,
        "org_name": case.org.name,
        "status": case.status,
        "channel": case.channel,
        "title": case.title,
        "description": case.description,
        "phone": case.masked_phone,
        "address": case.masked_address,
        "contractor": case.contractor.name if case.contractor else None,
        "reported_at": case.reported_at,
        "closed_at": case.closed_at,
        "paused": case.is_paused,
        "clocks": [_clock_out(view) for view in clocks],
    }


def _row_out(row: dict, clocks: list[selectors.ClockView]) -> dict:
    """A list row from ``selectors.LIST_FIELDS`` (masks are stored columns: nothing is decrypted)."""
    return {
        "number": row["number"],
        "category": row["category__code"],
        "category_name": row["category__name"],
        "org_code": row["org__code"],
        "org_name": row["org__name"],
        "status": row["status"],
        "channel": row["channel"],
        "title": row["title"],
        "description": row["description"],
        "phone": row["phone_mask"],
        "address": row["address_mask"],
        "contractor": row["contractor__name"],
        "reported_at": row["reported_at"],
        "closed_at": row["closed_at"],
        "paused": row["paused_at"] is not None,
        "clocks": [_clock_out(view) for view in clocks],
    }


def _detail(case: Case, *, actor, reload: bool = True) -> dict:
    """The case with its clocks and timeline (one indexed query each, compiled once: ``rawrows``). After a
    step the case is read again (services work on their own locked copy); the plain detail view passes the
    row it just loaded. Staff in scope and the case's contractor see every event; anyone else (the
    reporter) sees only the public ones, exactly as their page shows them."""
    if reload:
        case = Case.objects.select_related("org", "category", "contractor").get(pk=case.pk)
    moment = current_time()
    internal = permissions.can_view_case_as_staff(actor, case) or permissions.is_contractor_for(actor, case)
    record = selectors.case_record(case.pk, moment, selectors.API_RECORD, public_only=not internal)
    events = [
        {
            "at": e["at"],
            "kind": e["kind"],
            "step": e["step"],
            "note": e["note"],
            "actor": (e["actor__display_name"] or e["actor__username"]) if e["actor_id"] else None,
            "from_status": e["from_status"],
            "to_status": e["to_status"],
        }
        for e in record.events
    ]
    return {**_out(case, record.clocks), "events": events, "duplicates": []}


def _case(request, number: str) -> Case:
    return access_case(request.user, number)


@router.get("/categories", response=list[CaseCategoryOut])
@paginate(Pagination, page_size=100)
def categories(request):
    rows = (
        CaseCategory.objects.filter(is_active=True)
        .select_related("parent", "policy")
        .prefetch_related("policy__milestones")
        .order_by("sort_order", "code", "id")
    )
    return Listing(rows, row=_category_out)


def _category_out(c: CaseCategory) -> dict:
    return {
        "code": c.code,
        "name": c.name,
        "parent": c.parent.code if c.parent else None,
        "policy": c.policy.code,
        "precautions": c.precautions,
        "milestones": [{"code": m.code, "name": m.name, "hours": m.hours} for m in c.policy.milestones.all()],
    }


@router.get("/", response=list[CaseOut])
@paginate_trusted(page_size=50)
def list_cases(
    request,
    status: str = "",
    category: str = "",
    org: str = "",
    sla: str = "",
    q: str = "",
    contractor: str = "",
):
    moment = current_time()
    params = {
        "status": status,
        "category": category,
        "org": org,
        "sla": sla,
        "q": q,
        "contractor": contractor,
    }

    def rows(page: list[dict]) -> list[dict]:
        clocks = selectors.clocks_by_case([row["id"] for row in page], moment)
        return [_row_out(row, clocks[row["id"]]) for row in page]

    shape = selectors.list_shape(request.user, params, moment)
    if shape is not None:
        key, build, values = shape
        counted = partial(build, fields=selectors.KEY_FIELDS)
        return Listing.shaped(key, build, values, counted, rows=rows, seek=selectors.LIST_ORDER)
    parts = selectors.list_reads(request.user, params, moment)
    return Listing.of_parts(parts, rows=rows, seek=selectors.LIST_ORDER)


@router.post("/", response={201: CaseDetailOut})
def create_case(request, payload: CaseIn):
    category = reference_cache.category_for_intake(payload.category)
    if category is None:
        raise UserError("unknown_category", _("Unknown category"), field="category")
    if payload.channel == Channel.ONLINE:
        org = get_object_or_404(OrgUnit, code=payload.org)
    else:
        org = access_unit(request.user, payload.org)
    case = services.case_report(
        actor=request.user,
        category=category,
        org=org,
        channel=payload.channel,
        title=payload.title,
        description=payload.description,
        resident_name=payload.resident_name,
        phone=payload.phone,
        address=payload.address,
        latitude=payload.latitude,
        longitude=payload.longitude,
    )
    duplicates = services.duplicate_numbers(category, payload.address, actor=request.user, besides=case.pk)
    # The service's own row (org, category and policy loaded): no second read of the case just written,
    # written straight to JSON as the case detail is (tests hold it to CaseDetailOut).
    detail = {**_detail(case, actor=request.user, reload=False), "duplicates": duplicates}
    return trusted_json(request, detail, status=201)


@router.get("/figures", response=dict)
def case_figures(request, start: dt.date | None = None, end: dt.date | None = None):
    if not permissions.can_view_figures(request.user):
        raise Http404
    params = {"start": start.isoformat() if start else "", "end": end.isoformat() if end else ""}
    first, last = figures.period_from(params)
    return figures.compute(request.user, start=first, end=last)


@router.get("/{number}", response=CaseDetailOut)
def case_detail(request, number: str):
    return trusted_json(request, _detail(_case(request, number), actor=request.user, reload=False))


@router.post("/{number}/accept", response=CaseDetailOut)
def accept(request, number: str):
    return _detail(services.case_accept(actor=request.user, case=_case(request, number)), actor=request.user)


@router.post("/{number}/dispatch", response=CaseDetailOut)
def dispatch(request, number: str, payload: DispatchIn):
    contractor = None
    if payload.contractor is not None:
        contractor = Contractor.objects.filter(pk=payload.contractor).first()
        if contractor is None:
            raise UserError("unknown_contractor", _("No such contractor"), field="contractor")
    return _detail(
        services.case_dispatch(actor=request.user, case=_case(request, number), contractor=contractor),
        actor=request.user,
    )


@router.post("/{number}/contractor-accept", response=CaseDetailOut)
def contractor_accept(request, number: str):
    return _detail(
        services.case_contractor_accept(actor=request.user, case=_case(request, number)), actor=request.user
    )


@router.post("/{number}/return", response=CaseDetailOut)
def return_case(request, number: str, payload: CaseReasonIn):
    case = _case(request, number)
    services.case_return(actor=request.user, case=case, reason=payload.reason)
    return _detail(case, actor=request.user)


@router.post("/{number}/book", response=CaseDetailOut)
def book(request, number: str, payload: BookIn):
    case = _case(request, number)
    services.case_book(
        actor=request.user,
        case=case,
        slot_start=payload.slot_start,
        slot_end=payload.slot_end,
        note=payload.note,
    )
    return _detail(case, actor=request.user)


@router.post("/{number}/contact", response=CaseDetailOut)
def contact(request, number: str, payload: NoteIn):
    return _detail(
        services.case_contact(actor=request.user, case=_case(request, number), note=payload.note),
        actor=request.user,
    )


@router.post("/{number}/check-in", response=CaseDetailOut)
def check_in(
    request,
    number: str,
    note: Form[str] = "",
    early_reason: Form[str] = "",
    photo: File[UploadedFile] = None,
):
    case = _case(request, number)
    photos = validate_images([photo] if photo else [], field="photo")
    return _detail(
        services.case_check_in(
            actor=request.user, case=case, photos=photos, note=note, early_reason=early_reason
        ),
        actor=request.user,
    )


@router.post("/{number}/rework", response=CaseDetailOut)
def rework(request, number: str, payload: CaseReasonIn):
    """The desk reopens a finished (or closed) case for rework; its rework clock starts."""
    return _detail(
        services.case_rework(actor=request.user, case=_case(request, number), reason=payload.reason),
        actor=request.user,
    )


@router.post("/{number}/steps", response=CaseDetailOut)
def step(request, number: str, step: Form[str], note: Form[str] = "", photo: File[UploadedFile] = None):
    case = _case(request, number)
    photos = validate_images([photo] if photo else [], field="photo")
    services.case_record_step(actor=request.user, case=case, step=step, note=note, photos=photos)
    return _detail(case, actor=request.user)


@router.post("/{number}/finish", response=CaseDetailOut)
def finish(request, number: str, payload: NoteIn):
    return _detail(
        services.case_finish(actor=request.user, case=_case(request, number), note=payload.note),
        actor=request.user,
    )


@router.post("/{number}/feedback", response=CaseDetailOut)
def feedback(request, number: str, payload: FeedbackIn):
    case = _case(request, number)
    services.case_feedback(
        actor=request.user,
        case=case,
        satisfied=payload.satisfied,
        rating=payload.rating,
        comment=payload.comment,
    )
    return _detail(case, actor=request.user)


@router.post("/{number}/close", response=CaseDetailOut)
def close(request, number: str, payload: NoteIn):
    return _detail(
        services.case_close(actor=request.user, case=_case(request, number), note=payload.note),
        actor=request.user,
    )


@router.post("/{number}/cancel", response=CaseDetailOut)
def cancel(request, number: str, payload: CaseReasonIn):
    return _detail(
        services.case_cancel(actor=request.user, case=_case(request, number), reason=payload.reason),
        actor=request.user,
    )


@router.post("/{number}/pause", response=CaseDetailOut)
def pause(request, number: str, payload: CaseReasonIn):
    return _detail(
        services.case_pause(actor=request.user, case=_case(request, number), reason=payload.reason),
        actor=request.user,
    )


@router.post("/{number}/resume", response=CaseDetailOut)
def resume(request, number: str):
    return _detail(services.case_resume(actor=request.user, case=_case(request, number)), actor=request.user)


@router.post("/{number}/extensions", response={201: dict})
def request_extension(request, number: str, payload: ExtensionIn):
    row = services.extension_request(
        actor=request.user,
        case=_case(request, number),
        milestone_code=payload.milestone,
        hours=payload.hours,
        reason=payload.reason,
    )
    return 201, {"id": row.pk, "status": row.status, "hours": row.hours}


@router.post("/extensions/{pk}/decide", response=dict)
def decide_extension(request, pk: int, payload: DecisionIn):
    row = get_object_or_404(ExtensionRequest.objects.select_related("case_milestone__case"), pk=pk)
    get_in_scope_or_404(request.user, Case.objects.all(), pk=row.case_milestone.case_id)
    row = services.extension_decide(actor=request.user, request=row, approve=payload.approve)
    return {"id": row.pk, "status": row.status}
