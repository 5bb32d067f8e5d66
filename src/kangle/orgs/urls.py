from django.urls import path

from kangle.orgs import views

app_name = "orgs"
urlpatterns = [
    path("units/<str:code>/", views.unit_detail, name="unit"),
    path("units/<str:code>/add-child/", views.unit_add_child, name="unit-add-child"),
    path("units/<str:code>/move/", views.unit_move, name="unit-move"),
    path("registration-points/", views.registration_points, name="registration-points"),
    path("registration-points/<str:code>/qr.svg", views.registration_point_qr, name="registration-point-qr"),
    path(
        "registration-points/<str:code>/poster/",
        views.registration_point_poster,
        name="registration-point-poster",
    ),
    path("venues/", views.venues, name="venues"),
]
