from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path, re_path

from kangle.accounts import views as account_views
from kangle.api import api
from kangle.cases import open311
from kangle.core import files
from kangle.orgs import views as org_views


def api_not_found(request):
    return JsonResponse(
        {"code": "not_found", "message": "没有这个接口", "message_en": "No such endpoint"}, status=404
    )


def healthz(request):
    """For load balancers: the app answers and its database does. An operator (a superuser's session)
    asking ``?detail=1`` gets every `kangle check` result; the answer is 503 when one fails."""
    from django.db import connection

    if request.GET.get("detail") and request.user.is_authenticated and request.user.is_superuser:
        from kangle.core import health

        results = health.all_checks()
        ok = all(result.ok for result in results)
        checks = [{"name": r.name, "ok": r.ok, "message": r.message} for r in results]
        return JsonResponse({"ok": ok, "checks": checks}, status=200 if ok else 503)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("kangle.accounts.urls")),
    path("orgs/", include("kangle.orgs.urls")),
    path("notify/", include("kangle.notify.urls")),
    path("people/", include("kangle.people.urls")),
    path("members/", include("kangle.members.urls")),
    path("cases/", include("kangle.cases.urls")),
    path("open311/v2/", include("kangle.cases.open311_urls")),
    path("open311/discovery.<str:fmt>", open311.discovery, name="open311-discovery"),
    path("prevention/", include("kangle.prevention.urls")),
    path("drills/", include("kangle.drills.urls")),
    path("posts/", include("kangle.posts.urls")),
    path("activities/", include("kangle.activities.urls")),
    path("points/", include("kangle.points.urls")),
    path("recognition/", include("kangle.recognition.urls")),
    path("reports/", include("kangle.reports.urls")),
    # The public page a registration point's QR code opens (short, so the code stays coarse).
    path("r/<str:code>/", org_views.registration_point_public, name="registration-point-public"),
    path("api/v1/", api.urls),
    # Anything else under the API answers in the API's error format, not with an HTML page.
    re_path(r"^api/v1/.*$", api_not_found),
    # Django's language switch, also keeping a logged-in person's choice on their account.
    path("i18n/setlang/", account_views.language_switch, name="set_language"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # Every stored file (photos), through its owner's access check; there is no public media folder.
    path("files/<slug:kind>/<int:pk>/", files.serve, name="file"),
]
