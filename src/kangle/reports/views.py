"""Cross-module workbench pages: the search box's results, the street cockpit and the map."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from kangle.reports.search import search


def _workbench_only(request) -> None:
    if not request.user.is_workbench_user:
        raise Http404


@login_required
def search_page(request):
    _workbench_only(request)
    results = search(request.user, request.GET.get("q", ""))
    return render(request, "reports/search.html", {"results": results, "search_query": results.query})
