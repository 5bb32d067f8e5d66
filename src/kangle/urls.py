from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path, re_path

from kangle.accounts import views as account_views
from kangle.api import api
from kangle.orgs import views as org_views


def api_not_found(request):
    return JsonResponse(
        {"code": "not_found", "message": "没有这个接口", "message_en": "No such endpoint"}, status=404
    )


def healthz(request):
    """For load balancers: the app answers and its database does."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("kangle.accounts.urls")),
    path("orgs/", include("kangle.orgs.urls")),
    path("notify/", include("kangle.notify.urls")),
    path("members/", include("kangle.members.urls")),
    path("cases/", include("kangle.cases.urls")),
    path("open311/v2/", include("kangle.cases.open311_urls")),
    path("prevention/", include("kangle.prevention.urls")),
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
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
