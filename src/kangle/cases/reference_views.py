"""Workbench pages for 民情快办 reference data: categories, SLA policies, contractors."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from kangle.cases import reference
from kangle.cases.models import CaseCategory, Contractor, SlaPolicy
from kangle.cases.reference_forms import (
    CalendarYearForm,
    CategoryCreateForm,
    CategoryForm,
    ContractorForm,
    ContractorStaffForm,
    PolicyForm,
)
from kangle.core import workcalendar
from kangle.core.errors import UserError, form_error
from kangle.core.models import CalendarYear
from kangle.core.timeutil import today
from kangle.orgs.access import access_unit
from kangle.orgs.scope import scope_queryset


def _require(request) -> None:
    if not reference.can_manage_reference(request.user):
        raise Http404


@login_required
def categories(request):
    _require(request)
    rows = CaseCategory.objects.select_related("parent", "policy").order_by("sort_order", "code")
    policies = SlaPolicy.objects.filter(is_current=True).prefetch_related("milestones")
    form = CategoryCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            reference.category_create(
                actor=request.user,
                code=data["code"],
                name=data["name"],
                policy=data["policy"],
                parent=data["parent"],
                precautions=data["precautions"],
                sort_order=data["sort_order"],
            )
        except UserError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Category created."))
            return redirect("cases:ref-categories")
    return render(
        request,
        "cases/reference/categories.html",
        {"categories": rows, "policies": policies, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def category_edit(request, code):
    category = reference.access_category(request.user, code)
    initial = {
        "name": category.name,
        "policy": category.policy,
        "precautions": category.precautions,
        "prevention_tips": category.prevention_tips,
        "description": category.description,
        "sort_order": category.sort_order,
    }
    form = CategoryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            reference.category_update(actor=request.user, category=category, **form.cleaned_data)
        except UserError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Category saved."))
            return redirect("cases:ref-categories")
    return render(
        request,
        "cases/reference/category_edit.html",
        {"category": category, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def category_delete(request, code):
    category = reference.access_category(request.user, code)
    outcome = reference.category_delete(actor=request.user, category=category)
    if outcome == "retired":
        messages.info(request, _("The category has cases, so it was retired instead of deleted."))
    else:
        messages.success(request, _("Category deleted."))
    return redirect("cases:ref-categories")


@login_required
@require_POST
def category_reinstate(request, code):
    reference.category_reinstate(actor=request.user, category=reference.access_category(request.user, code))
    messages.success(request, _("Category reinstated."))
    return redirect("cases:ref-categories")


def _milestone_lines(policy: SlaPolicy) -> str:
    return "\n".join(f"{m.code} | {m.name} | {m.hours} | {m.met_on}" for m in policy.milestones.all())


def _escalation_lines(policy: SlaPolicy) -> str:
    return "\n".join(
        f"{step.get('role')} | {step.get('after_hours', 0)}" for step in policy.escalation_chain or []
    )


def parse_milestones(text: str) -> list[reference.MilestoneSpec]:
    specs = []
    for index, line in enumerate([ln for ln in text.splitlines() if ln.strip()], start=1):
        parts = [part.strip() for part in line.split("|")]
        if len(parts) != 4:
            raise UserError(
                "bad_milestone_line",
                _lazy("Line %(index)s should read: code | name | hours | status"),
                field="milestones",
                index=index,
            )
        try:
            hours = int(parts[2])
        except ValueError:
            raise UserError(
                "bad_hours",
                _lazy("Line %(index)s: the hours are not a whole number"),
                field="milestones",
                index=index,
            ) from None
        specs.append(reference.MilestoneSpec(code=parts[0], name=parts[1], hours=hours, met_on=parts[3]))
    return specs


def parse_escalation(text: str) -> list[dict]:
    chain = []
    for index, line in enumerate([ln for ln in text.splitlines() if ln.strip()], start=1):
        parts = [part.strip() for part in line.split("|")]
        try:
            if len(parts) != 2:
                raise ValueError
            chain.append({"role": parts[0], "after_hours": int(parts[1])})
        except ValueError:
            raise UserError(
                "bad_escalation_line",
                _lazy("Escalation line %(index)s should read: role | hours after the due time"),
                field="escalation_chain",
                index=index,
            ) from None
    return chain


@login_required
def policy_edit(request, code):
    policy = reference.access_policy(request.user, code)
    initial = {
        "name": policy.name,
        "clock_type": policy.clock_type,
        "work_start": policy.work_start,
        "work_end": policy.work_end,
        "warn_percent": (policy.warn_ratio * 100).quantize(Decimal("0.1")),
        "milestones": _milestone_lines(policy),
        "escalation": _escalation_lines(policy),
    }
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            reference.sla_policy_revise(
                actor=request.user,
                policy=policy,
                name=data["name"],
                clock_type=data["clock_type"],
                work_start=data["work_start"],
                work_end=data["work_end"],
                warn_percent=data["warn_percent"],
                milestones=parse_milestones(data["milestones"]),
                escalation_chain=parse_escalation(data["escalation"]),
            )
        except UserError as exc:
            field = {"escalation_chain": "escalation"}.get(exc.field or "", exc.field)
            form.add_error(field if field in form.fields else None, str(exc))
        else:
            messages.success(request, _("Policy saved as a new version; cases reported from now on use it."))
            return redirect("cases:ref-categories")
    versions = SlaPolicy.objects.filter(code=policy.code).order_by("-version")
    return render(
        request,
        "cases/reference/policy_edit.html",
        {"policy": policy, "form": form, "versions": versions, "met_on": reference.MET_ON_CHOICES},
        status=400 if form.errors else 200,
    )


@login_required
def contractors(request):
    _require(request)
    rows = (
        scope_queryset(request.user, Contractor.objects.select_related("org"))
        .prefetch_related("categories")
        .order_by("-is_active", "-priority", "name")
    )
    form = ContractorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            org = access_unit(request.user, data["org"].strip())
        except Http404:
            form.add_error("org", _("No unit with this code in your area."))
        else:
            try:
                contractor = reference.contractor_create(
                    actor=request.user,
                    name=data["name"],
                    org=org,
                    categories=list(data["categories"]),
                    phone=data["phone"],
                    priority=data["priority"],
                )
            except UserError as exc:
                form_error(form, exc)
            else:
                return redirect("cases:ref-contractor", pk=contractor.pk)
    return render(
        request,
        "cases/reference/contractors.html",
        {"contractors": rows, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def contractor_detail(request, pk):
    contractor = reference.access_contractor(request.user, pk)
    form = ContractorForm(
        request.POST if request.method == "POST" and "save" in request.POST else None,
        initial={
            "name": contractor.name,
            "org": contractor.org.code,
            "categories": list(contractor.categories.all()),
            "phone": contractor.phone,
            "priority": contractor.priority,
            "is_active": contractor.is_active,
        },
    )
    staff_form = ContractorStaffForm(
        request.POST if request.method == "POST" and "add_staff" in request.POST else None
    )
    issued = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            org = access_unit(request.user, data["org"].strip())
        except Http404:
            form.add_error("org", _("No unit with this code in your area."))
        else:
            try:
                reference.contractor_update(
                    actor=request.user,
                    contractor=contractor,
                    name=data["name"],
                    org=org,
                    categories=list(data["categories"]),
                    phone=data["phone"],
                    priority=data["priority"],
                    is_active=data["is_active"],
                )
            except UserError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _("Contractor saved."))
                return redirect("cases:ref-contractor", pk=contractor.pk)
    if staff_form.is_bound and staff_form.is_valid():
        try:
            issued = reference.contractor_staff_create(
                actor=request.user, contractor=contractor, **staff_form.cleaned_data
            )
        except UserError as exc:
            form_error(staff_form, exc)
        else:
            staff_form = ContractorStaffForm()
    context = {
        "contractor": contractor,
        "form": form,
        "staff_form": staff_form,
        "staff": contractor.users.order_by("username"),
        "issued": issued,
    }
    return render(
        request,
        "cases/reference/contractor_detail.html",
        context,
        status=400 if (form.errors or staff_form.errors) else 200,
    )


@login_required
def calendar_years(request):
    _require(request)
    context = {
        "package_years": sorted(workcalendar.package_years()),
        "manual_years": CalendarYear.objects.select_related("updated_by"),
        "uncovered": workcalendar.uncovered_years(today()),
    }
    return render(request, "cases/reference/calendar.html", context)


@login_required
def calendar_year(request, year):
    _require(request)
    row = CalendarYear.objects.filter(year=year).first()
    days = list(row.days.all()) if row else []
    initial = {
        "holidays": "\n".join(f"{d.day.isoformat()} {d.name}" for d in days if not d.is_workday),
        "workdays": "\n".join(f"{d.day.isoformat()} {d.name}" for d in days if d.is_workday),
    }
    form = CalendarYearForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            reference.require_shared(request.user)
            workcalendar.calendar_year_set(actor=request.user, year=year, **form.cleaned_data)
        except UserError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("The %(year)s calendar is saved.") % {"year": year})
            return redirect("cases:ref-calendar")
    return render(
        request,
        "cases/reference/calendar_year.html",
        {"year": year, "form": form, "published": year in workcalendar.package_years()},
        status=400 if form.errors else 200,
    )
