"""URLs for benchmarks: the product's own, plus a bare one-query view as the baseline."""

from django.db import connection
from django.http import JsonResponse
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


urlpatterns = [
    path("bench/bare", bare),
    path("bench/bare-user", bare_user),
    path("", include("kangle.urls")),
]
