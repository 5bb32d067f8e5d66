"""URLs for benchmarks: the product's own, plus a bare one-query view as the baseline."""

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import include, path


def bare(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"ok": True})


def bare_user(request):
    """The same one-query view behind a signed-in session: what session, user and role loading cost."""
    if not request.user.is_authenticated or not request.user.is_workbench_user:
        return JsonResponse({"ok": False}, status=403)
    return bare(request)


def bare_layout(request):
    """The workbench's layout around an empty page, behind the same session: what every staff page pays
    before its own content."""
    if not request.user.is_authenticated or not request.user.is_workbench_user:
        return JsonResponse({"ok": False}, status=403)
    return render(request, "core/workbench.html", {})


urlpatterns = [
    path("bench/bare", bare),
    path("bench/bare-user", bare_user),
    path("bench/bare-layout", bare_layout),
    path("", include("kangle.urls")),
]
