"""/api/v1/reference/…: the reference-data pages' API (categories, SLA policies, contractors)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from ninja.pagination import paginate

from kangle.cases import reference
from kangle.cases.models import CaseCategory, Contractor, SlaPolicy
from kangle.core import workcalendar
from kangle.core.errors import UserError
from kangle.core.models import CalendarYear
from kangle.core.pagination import Listing, Pagination
from kangle.core.timeutil import today
from kangle.orgs.access import access_unit
from kangle.orgs.scope import scope_queryset

router = Router(tags=["reference"])


class MilestoneIO(Schema):
    code: str
    name: str
    hours: int
    met_on: str


class EscalationIO(Schema):
    role: str
    after_hours: int


class PolicyOut(Schema):
    code: str
    version: int
    name: str
    clock_type: str
    work_start: dt.time
    work_end: dt.time
    warn_percent: Decimal
    escalation_chain: list[EscalationIO]
    milestones: list[MilestoneIO]


class PolicyIn(Schema):
    name: str
    clock_type: str
    warn_percent: Decimal
    work_start: dt.time | None = None
    work_end: dt.time | None = None
    escalation_chain: list[EscalationIO] = []
    milestones: list[MilestoneIO]


class ReferenceCategoryOut(Schema):
    code: str
    name: str
    parent: str | None
    policy: str
    policy_version: int
    precautions: str
    prevention_tips: str
    is_active: bool


class CategoryIn(Schema):
    name: str
    precautions: str = ""
    prevention_tips: str = ""
    description: str = ""
    sort_order: int = 0
    policy: str | None = None


class CategoryCreateIn(CategoryIn):
    code: str
    policy: str
    parent: str | None = None


class DeleteOut(Schema):
    outcome: str


class ContractorOut(Schema):
    id: int
    name: str
    org_code: str
    categories: list[str]
    phone: str
    priority: int
    is_active: bool
    staff: list[str]


class ContractorIn(Schema):
    name: str
    org_code: str
    categories: list[str]
    phone: str = ""
    priority: int = 0
    is_active: bool = True


class StaffIn(Schema):
    username: str
    display_name: str
    phone: str = ""


class StaffOut(Schema):
    username: str
    one_time_code: str


def _require(request) -> None:
    if not reference.can_manage_reference(request.user):
        raise Http404


def _policy_out(policy: SlaPolicy) -> dict:
    return {
        "code": policy.code,
        "version": policy.version,
        "name": policy.name,
        "clock_type": policy.clock_type,
        "work_start": policy.work_start,
        "work_end": policy.work_end,
        "warn_percent": policy.warn_ratio * 100,
        "escalation_chain": policy.escalation_chain or [],
        "milestones": [
            {"code": m.code, "name": m.name, "hours": m.hours, "met_on": m.met_on}
            for m in policy.milestones.all()
        ],
    }


def _category_out(c: CaseCategory) -> dict:
    return {
        "code": c.code,
        "name": c.name,
        "parent": c.parent.code if c.parent_id else None,
        "policy": c.policy.code,
        "policy_version": c.policy.version,
        "precautions": c.precautions,
        "prevention_tips": c.prevention_tips,
        "is_active": c.is_active,
    }


def _current_policy(code: str) -> SlaPolicy:
    policy = SlaPolicy.objects.filter(code=code, is_current=True).first()
    if policy is None:
        raise UserError("unknown_policy", _("No such SLA policy"), field="policy")
    return policy


@router.get("/categories", response=list[ReferenceCategoryOut])
@paginate(Pagination, page_size=100)
def list_categories(request):
    _require(request)
    rows = CaseCategory.objects.select_related("parent", "policy").order_by("sort_order", "code", "id")
    return Listing(rows, row=_category_out)


@router.post("/categories", response={201: ReferenceCategoryOut})
def create_category(request, payload: CategoryCreateIn):
    _require(request)
    parent = None
    if payload.parent:
        parent = CaseCategory.objects.filter(code=payload.parent).first()
        if parent is None:
            raise UserError("unknown_parent", _("No such parent category"), field="parent")
    category = reference.category_create(
        actor=request.user,
        code=payload.code,
        name=payload.name,
        policy=_current_policy(payload.policy),
        parent=parent,
        precautions=payload.precautions,
        sort_order=payload.sort_order,
    )
    return 201, _category_out(category)


@router.put("/categories/{code}", response=ReferenceCategoryOut)
def update_category(request, code: str, payload: CategoryIn):
    category = reference.access_category(request.user, code)
    category = reference.category_update(
        actor=request.user,
        category=category,
        name=payload.name,
        precautions=payload.precautions,
        prevention_tips=payload.prevention_tips,
        description=payload.description,
        sort_order=payload.sort_order,
        policy=_current_policy(payload.policy) if payload.policy else None,
    )
    return _category_out(CaseCategory.objects.select_related("parent", "policy").get(pk=category.pk))


@router.post("/categories/{code}/delete", response=DeleteOut)
def delete_category(request, code: str):
    return {
        "outcome": reference.category_delete(
            actor=request.user, category=reference.access_category(request.user, code)
        )
    }


@router.get("/policies/{code}", response=PolicyOut)
def get_policy(request, code: str):
    return _policy_out(reference.access_policy(request.user, code))


@router.put("/policies/{code}", response=PolicyOut)
def revise_policy(request, code: str, payload: PolicyIn):
    policy = reference.sla_policy_revise(
        actor=request.user,
        policy=reference.access_policy(request.user, code),
        name=payload.name,
        clock_type=payload.clock_type,
        warn_percent=payload.warn_percent,
        work_start=payload.work_start,
        work_end=payload.work_end,
        escalation_chain=[step.dict() for step in payload.escalation_chain],
        milestones=[reference.MilestoneSpec(**m.dict()) for m in payload.milestones],
    )
    return _policy_out(SlaPolicy.objects.prefetch_related("milestones").get(pk=policy.pk))


def _contractor_out(c: Contractor) -> dict:
    return {
        "id": c.pk,
        "name": c.name,
        "org_code": c.org.code,
        "categories": sorted(cat.code for cat in c.categories.all()),
        "phone": c.phone,
        "priority": c.priority,
        "is_active": c.is_active,
        "staff": sorted(u.username for u in c.users.all()),
    }


def _contractor_args(request, payload: ContractorIn) -> dict:
    try:
        org = access_unit(request.user, payload.org_code)
    except Http404:
        raise UserError(
            "unknown_unit", _("No such unit in your scope"), field="org_code", status=404
        ) from None
    categories = list(CaseCategory.objects.filter(code__in=payload.categories, is_active=True))
    if len(categories) != len(set(payload.categories)):
        raise UserError("unknown_category", _("Unknown category code"), field="categories")
    return {
        "name": payload.name,
        "org": org,
        "categories": categories,
        "phone": payload.phone,
        "priority": payload.priority,
    }


@router.get("/contractors", response=list[ContractorOut])
@paginate(Pagination, page_size=100)
def list_contractors(request):
    _require(request)
    rows = scope_queryset(request.user, Contractor.objects.select_related("org")).prefetch_related(
        "categories", "users"
    )
    return Listing(rows.order_by("priority", "name", "id"), row=_contractor_out)


@router.post("/contractors", response={201: ContractorOut})
def create_contractor(request, payload: ContractorIn):
    _require(request)
    contractor = reference.contractor_create(actor=request.user, **_contractor_args(request, payload))
    return 201, _contractor_out(contractor)


@router.get("/contractors/{pk}", response=ContractorOut)
def get_contractor(request, pk: int):
    return _contractor_out(reference.access_contractor(request.user, pk))


@router.put("/contractors/{pk}", response=ContractorOut)
def update_contractor(request, pk: int, payload: ContractorIn):
    contractor = reference.access_contractor(request.user, pk)
    contractor = reference.contractor_update(
        actor=request.user,
        contractor=contractor,
        is_active=payload.is_active,
        **_contractor_args(request, payload),
    )
    return _contractor_out(contractor)


@router.post("/contractors/{pk}/staff", response={201: StaffOut})
def add_contractor_staff(request, pk: int, payload: StaffIn):
    contractor = reference.access_contractor(request.user, pk)
    issued = reference.contractor_staff_create(
        actor=request.user,
        contractor=contractor,
        username=payload.username,
        display_name=payload.display_name,
        phone=payload.phone,
    )
    return 201, {"username": issued.user.username, "one_time_code": issued.code}


class CalendarOut(Schema):
    package_years: list[int]
    manual_years: list[int]
    uncovered: list[int]


class CalendarDayIO(Schema):
    day: dt.date
    name: str = ""


class CalendarYearIO(Schema):
    holidays: list[CalendarDayIO]
    workdays: list[CalendarDayIO]


@router.get("/calendar", response=CalendarOut)
def calendar_overview(request):
    _require(request)
    return {
        "package_years": sorted(workcalendar.package_years()),
        "manual_years": list(CalendarYear.objects.order_by("year").values_list("year", flat=True)),
        "uncovered": workcalendar.uncovered_years(today()),
    }


@router.get("/calendar/{year}", response=CalendarYearIO)
def calendar_year_get(request, year: int):
    _require(request)
    row = CalendarYear.objects.filter(year=year).first()
    if row is None:
        raise Http404
    days = list(row.days.all())
    return {
        "holidays": [{"day": d.day, "name": d.name} for d in days if not d.is_workday],
        "workdays": [{"day": d.day, "name": d.name} for d in days if d.is_workday],
    }


@router.put("/calendar/{year}", response=CalendarYearIO)
def calendar_year_put(request, year: int, payload: CalendarYearIO):
    _require(request)
    reference.require_shared(request.user)
    workcalendar.calendar_year_set(
        actor=request.user,
        year=year,
        holidays="\n".join(f"{d.day.isoformat()} {d.name}" for d in payload.holidays),
        workdays="\n".join(f"{d.day.isoformat()} {d.name}" for d in payload.workdays),
    )
    return calendar_year_get(request, year)
