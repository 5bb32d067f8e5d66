"""Workbench pages for points benefits: create benefits and bookable slots, see bookings, redeem passes."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kangle.core.errors import UserError, form_error
from kangle.members.selectors import own_file
from kangle.orgs.access import access_unit
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import get_in_scope_or_404, scope_queryset
from kangle.points import permissions, services
from kangle.points.forms import PassUseForm
from kangle.points.models import Benefit, BenefitKind, Booking, PriorityPass, ResourceKind, Slot


class BenefitForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=BenefitKind.choices)
    org = forms.CharField(label=gettext_lazy("Unit code"), max_length=64)
    resource_kind = forms.ChoiceField(
        label=gettext_lazy("Resource kind"), choices=[("", "—"), *ResourceKind.choices], required=False
    )
    min_points = forms.IntegerField(label=gettext_lazy("Minimum balance"), min_value=0, initial=0)
    cost_points = forms.IntegerField(label=gettext_lazy("Cost in points"), min_value=0, initial=0)
    early_hours = forms.IntegerField(label=gettext_lazy("Hours before everyone else"), min_value=0, initial=0)
    pass_valid_days = forms.IntegerField(
        label=gettext_lazy("Pass valid for days"), min_value=1, max_value=366, initial=30
    )
    description = forms.CharField(label=gettext_lazy("Description"), widget=forms.Textarea, required=False)


class SlotForm(forms.Form):
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    capacity = forms.IntegerField(label=gettext_lazy("Capacity"), min_value=1, max_value=1000)
    priority_min_points = forms.IntegerField(
        label=gettext_lazy("Held for balances of at least"), min_value=0, initial=0
    )


def _staff_benefits(request):
    rows = scope_queryset(request.user, Benefit.objects.select_related("org"))
    if not request.user.is_superuser and not any(
        permissions.can_manage_benefits(request.user, unit)
        for unit in OrgUnit.objects.filter(path__in=request.user.scope_paths)
    ):
        raise Http404
    return rows


@login_required
def benefit_list(request):
    rows = _staff_benefits(request).order_by("-is_active", "org__path", "name")
    form = BenefitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            org = access_unit(request.user, data.pop("org").strip())
        except Http404:
            form.add_error("org", _("No unit with this code in your area."))
        else:
            fields = {k: v for k, v in data.items() if k not in ("name", "kind") and v not in ("", None)}
            try:
                benefit = services.benefit_create(
                    actor=request.user, org=org, kind=data["kind"], name=data["name"], **fields
                )
            except UserError as exc:
                form_error(form, exc)
            else:
                return redirect("points:manage-benefit", benefit_id=benefit.pk)
    return render(
        request,
        "points/manage_benefits.html",
        {"benefits": rows[:200], "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def benefit_detail(request, benefit_id):
    benefit = get_in_scope_or_404(request.user, _staff_benefits(request), pk=benefit_id)
    form = SlotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.slot_create(actor=request.user, benefit=benefit, **form.cleaned_data)
        except UserError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Slot added."))
            return redirect("points:manage-benefit", benefit_id=benefit.pk)
    slots = Slot.objects.filter(benefit=benefit).order_by("-starts_at")[:50]
    bookings = (
        Booking.objects.filter(slot__benefit=benefit)
        .select_related("slot", "member", "household_member")
        .order_by("-created_at")[:200]
    )
    context = {"benefit": benefit, "slots": slots, "bookings": bookings, "form": form}
    return render(request, "points/manage_benefit.html", context, status=400 if form.errors else 200)


@login_required
def pass_redeem(request):
    _staff_benefits(request)
    used = None
    error = None
    if request.method == "POST":
        try:
            form = PassUseForm(request.POST)
            code = form.cleaned_data["code"] if form.is_valid() else ""
            used = services.pass_use(actor=request.user, code=code)
        except UserError as exc:
            error = str(exc)
    code = request.GET.get("code", "")
    return render(
        request,
        "points/pass_redeem.html",
        {"used": used, "error": error, "code": code},
        status=400 if error else 200,
    )


@login_required
def pass_qr(request, pass_id):
    """The holder's pass as a QR code: counter staff scan it and land on the redeem page with the code."""
    member = own_file(request.user)
    if member is None:
        raise Http404
    issued = get_object_or_404(PriorityPass, pk=pass_id, member=member)
    url = settings.KANGLE_BASE_URL + reverse("points:pass-redeem") + "?" + urlencode({"code": issued.code})
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False)
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
