from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from kangle.accounts import views as account_views
from kangle.api import api
from kangle.orgs import views as org_views

admin.site.site_header = _("Kangle administration")
admin.site.site_title = _("Kangle")


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
    path("points/", include("kangle.points.urls")),
    path("recognition/", include("kangle.recognition.urls")),
    # The public page a registration point's QR code opens (short, so the code stays coarse).
    path("r/<str:code>/", org_views.registration_point_public, name="registration-point-public"),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
