"""URLs for benchmarks: the product's own, plus a bare one-query view as the baseline."""

from django.db import connection
from django.http import JsonResponse
from django.urls import include, path


def bare(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/bare", bare), path("", include("kangle.urls"))]
