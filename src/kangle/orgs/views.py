from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from kangle.orgs.models import OrgUnit, RegistrationPoint, Venue
from kangle.orgs.qr import registration_qr_svg, registration_url
from kangle.orgs.scope import get_in_scope_or_404, in_scope, scope_queryset
from kangle.orgs.selectors import ancestors, children_with_counts, counts_by_kind, subtree


@login_required
def unit_detail(request, code):
    unit = get_in_scope_or_404(request.user, OrgUnit.objects.all(), path_field="path", code=code)
    # Only the ancestors the user may open are links; the rest are plain text in the breadcrumb.
    trail = [(a, in_scope(request.user, a.path)) for a in ancestors(unit) if a.pk != unit.pk]
    context = {
        "unit": unit,
        "trail": trail,
        "counts": counts_by_kind(subtree(unit)),
        "children": children_with_counts(unit),
        "venues": Venue.objects.filter(org=unit).order_by("name"),
        "points": RegistrationPoint.objects.filter(org=unit).select_related("venue"),
    }
    return render(request, "orgs/unit_detail.html", context)


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
    return HttpResponse(registration_qr_svg(point), content_type="image/svg+xml")


@login_required
def registration_point_poster(request, code):
    point = get_in_scope_or_404(
        request.user, RegistrationPoint.objects.select_related("org", "venue"), code=code
    )
    return render(request, "orgs/poster.html", {"point": point, "url": registration_url(point)})


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
