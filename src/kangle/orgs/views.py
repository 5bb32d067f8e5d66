from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kangle.core.errors import UserError
from kangle.orgs import services
from kangle.orgs.access import access_unit
from kangle.orgs.forms import UnitCreateForm, UnitMoveForm
from kangle.orgs.models import OrgUnit, RegistrationPoint, Venue
from kangle.orgs.permissions import can_manage_tree
from kangle.orgs.qr import registration_qr_svg, registration_url
from kangle.orgs.scope import get_in_scope_or_404, in_scope, scope_queryset
from kangle.orgs.selectors import ancestors, unit_summary


@login_required
def unit_detail(request, code, *, create_form=None, move_form=None):
    unit = access_unit(request.user, code)
    # Only the ancestors the user may open are links; the rest are plain text in the breadcrumb.
    trail = [(a, in_scope(request.user, a.path)) for a in ancestors(unit) if a.pk != unit.pk]
    counts, children = unit_summary(unit)
    context = {
        "unit": unit,
        "trail": trail,
        "counts": counts,
        "children": children,
        "venues": Venue.objects.filter(org=unit).order_by("name"),
        "points": RegistrationPoint.objects.filter(org=unit).select_related("venue"),
        "can_manage": can_manage_tree(request.user, unit),
        "create_form": create_form or UnitCreateForm(),
        "move_form": move_form or UnitMoveForm(),
    }
    return render(
        request, "orgs/unit_detail.html", context, status=400 if (create_form or move_form) else 200
    )


@login_required
def registration_points(request):
    points = (
        scope_queryset(request.user, RegistrationPoint.objects.all())
        .select_related("org", "venue")
        .order_by("org__path", "code")
    )
    return render(request, "orgs/registration_points.html", {"points": points})


@login_required
def registration_point_qr(request, code):
    point = get_in_scope_or_404(request.user, RegistrationPoint.objects.all(), code=code)
    return HttpResponse(registration_qr_svg(point, request=request), content_type="image/svg+xml")


@login_required
def registration_point_poster(request, code):
    point = get_in_scope_or_404(
        request.user, RegistrationPoint.objects.select_related("org", "venue"), code=code
    )
    return render(request, "orgs/poster.html", {"point": point, "url": registration_url(point, request)})


def registration_point_public(request, code):
    """Where a point's QR code leads: public, on the phone. Inactive points are not found."""
    point = get_object_or_404(
        RegistrationPoint.objects.select_related("org", "venue"), code=code, is_active=True
    )
    return render(request, "orgs/registration_point_public.html", {"point": point})


@login_required
def venues(request):
    rows = (
        scope_queryset(request.user, Venue.objects.all()).select_related("org").order_by("org__path", "name")
    )
    kinds = dict(rows.order_by().values_list("kind").annotate(n=Count("id", filter=Q(is_active=True))))
    return render(request, "orgs/venues.html", {"venues": rows, "kinds": kinds})


@login_required
@require_POST
def unit_add_child(request, code):
    parent = access_unit(request.user, code)
    form = UnitCreateForm(request.POST)
    if form.is_valid():
        try:
            child = services.orgunit_create(actor=request.user, parent=parent, **form.cleaned_data)
        except UserError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("Unit %(name)s created.") % {"name": child.name})
            return redirect("orgs:unit", code=parent.code)
    return unit_detail(request, code, create_form=form)


@login_required
@require_POST
def unit_move(request, code):
    unit = access_unit(request.user, code)
    form = UnitMoveForm(request.POST)
    if form.is_valid():
        new_parent = OrgUnit.objects.filter(code=form.cleaned_data["parent_code"].strip()).first()
        if new_parent is None or not in_scope(request.user, new_parent.path):
            form.add_error("parent_code", _("No unit with this code in your part of the organisation."))
        else:
            try:
                services.orgunit_move(actor=request.user, unit=unit, new_parent=new_parent)
            except UserError as exc:
                form.add_error("parent_code", str(exc))
            else:
                messages.success(request, _("Unit moved."))
                return redirect("orgs:unit", code=unit.code)
    return unit_detail(request, code, move_form=form)
