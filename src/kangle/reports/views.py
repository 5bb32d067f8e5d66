"""Cross-module workbench pages: the search box's results, the street cockpit and the map."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from kangle.accounts.decorators import require_staff
from kangle.core.errors import UserError
from kangle.core.exports import export_workbook, xlsx_response
from kangle.core.middleware import CONTENT_SECURITY_POLICY
from kangle.core.roles import Role
from kangle.core.timeutil import now
from kangle.reports import cockpit as cockpit_figures
from kangle.reports import geo, services
from kangle.reports.forms import StreetSettingsForm
from kangle.reports.models import StreetSettings
from kangle.reports.search import search


def _workbench_only(request) -> None:
    require_staff(request)


@login_required
def search_page(request):
    _workbench_only(request)
    results = search(request.user, request.GET.get("q", ""))
    return render(request, "reports/search.html", {"results": results, "search_query": results.query})


def _cockpit_user(request) -> None:
    user = request.user
    if not (user.is_superuser or user.has_role(Role.STREET_ADMIN) or user.has_role(Role.AREA_ADMIN)):
        raise Http404


@login_required
def cockpit(request):
    _cockpit_user(request)
    form, start, end = cockpit_figures.period_of(request.user, request.GET)
    data = cockpit_figures.compute(request.user, start=start, end=end, now=now())
    chart = {
        "clocks": [
            {"name": str(_("Past deadline")), "value": data["open_cases"]["overdue"]},
            {"name": str(_("Due soon")), "value": data["open_cases"]["warning"]},
            {"name": str(_("Paused")), "value": data["open_cases"]["paused"]},
            {"name": str(_("On track")), "value": data["open_cases"]["on_track"]},
        ],
        "warnings": {"months": data["warnings"]["months"], "counts": data["warnings"]["counts"]},
    }
    return render(
        request,
        "reports/cockpit.html",
        {"form": form, "data": data, "chart": chart, "query": request.GET.urlencode()},
    )


@login_required
def cockpit_export(request):
    _cockpit_user(request)
    form, start, end = cockpit_figures.period_of(request.user, request.GET)
    data = cockpit_figures.compute(request.user, start=start, end=end, now=now())
    content = export_workbook(
        actor=request.user,
        verb="cockpit.export",
        sheets=cockpit_figures.export_sheets(data),
        org_path=",".join(request.user.scope_paths),
        details={"start": str(start), "end": str(end)},
    )
    return xlsx_response(content, f"cockpit-{start:%Y%m%d}-{end:%Y%m%d}.xlsx")


@login_required
def map_page(request):
    require_staff(request)
    user = request.user
    street = geo.street_of_user(user)
    error = None
    if request.method == "POST":
        if street is None:
            raise Http404
        form = StreetSettingsForm(request.POST)
        form.is_valid()  # every field is optional text or a checkbox: the service checks the values
        try:
            services.street_settings_set(actor=user, street=street, **form.cleaned_data)
            messages.success(request, _("Street settings saved."))
            return redirect("reports:map")
        except UserError as exc:
            error = exc
    layers, clocks = _map_filters(request)
    moment = now()
    tiles = geo.tile_layer(street)
    street_settings = StreetSettings.objects.filter(street=street).first() if street else None
    data = {
        "features": geo.features(user, layers=layers, clocks=clocks, now=moment),
        "outline": geo.outline(user, now=moment),
        "tiles": {"url": tiles.tile_url, "attribution": tiles.attribution} if tiles else None,
    }
    response = render(
        request,
        "reports/map.html",
        {
            "data": data,
            "layers": layers,
            "clocks": clocks,
            "layer_choices": [(key, LAYER_LABELS[key]) for key in geo.LAYERS],
            "clock_choices": [(key, CLOCK_LABELS[key]) for key in geo.CLOCKS],
            "can_set_tiles": street is not None
            and (user.is_superuser or user.has_role(Role.STREET_ADMIN, within=street)),
            "tiles": tiles,
            "street_settings": street_settings,
            "error": error,
            "posted": request.POST,
            "empty": not any(data["features"].values()),
        },
    )
    if tiles:
        # The street's tile server is the one outside origin this page may load images from.
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(tiles.tile_url))
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "img-src 'self' data: blob:", f"img-src 'self' data: blob: {origin}"
        )
    return response


LAYER_LABELS = {
    "venues": _lazy("Venues"),
    "points": _lazy("Registration points"),
    "monitoring": _lazy("Monitoring points"),
    "warnings": _lazy("Warnings (heat)"),
    "cases": _lazy("Open cases"),
}
CLOCK_LABELS = {
    "overdue": _lazy("Past deadline"),
    "warning": _lazy("Due soon"),
    "on_track": _lazy("On track"),
}


def _map_filters(request) -> tuple[set[str], set[str]]:
    """The layers and clock states asked for; none (or only unknown ones) means all."""
    layers = set(request.GET.getlist("layer")) & set(geo.LAYERS) or set(geo.LAYERS)
    clocks = set(request.GET.getlist("clock")) & set(geo.CLOCKS) or set(geo.CLOCKS)
    return layers, clocks


@login_required
def map_data(request):
    """The map's points as JSON, for figure pages that embed the map (drawn over the outline: no tiles,
    so the embedding page needs no outside image source)."""
    require_staff(request)
    user = request.user
    layers, clocks = _map_filters(request)
    moment = now()
    return JsonResponse(
        {
            "features": geo.features(user, layers=layers, clocks=clocks, now=moment),
            "outline": geo.outline(user, now=moment),
            "tiles": None,
        }
    )
