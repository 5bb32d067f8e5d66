from django.urls import path

from kangle.prevention import views

app_name = "prevention"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.xlsx", views.export, name="export"),
    path("points/", views.points, name="points"),
    path("points/new/", views.point_create, name="point-create"),
    path("points/<str:code>/retire/", views.point_retire, name="point-retire"),
    path("rounds/", views.rounds, name="rounds"),
    path("rounds/open/", views.round_open, name="round-open"),
    path("rounds/<int:pk>/", views.round_detail, name="round"),
    path("rounds/<int:pk>/close/", views.round_close, name="round-close"),
    path("warnings/", views.warnings, name="warnings"),
    path("warnings/new/", views.warning_create, name="warning-create"),
    path("warnings/<int:pk>/open-case/", views.warning_open_case, name="warning-open-case"),
    path("campaigns/", views.campaigns, name="campaigns"),
    path("campaigns/new/", views.campaign_create, name="campaign-create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/spraying/", views.campaign_spraying, name="campaign-spraying"),
    path("campaigns/<int:pk>/export.xlsx", views.campaign_export, name="campaign-export"),
    path("m/", views.phone_home, name="m-home"),
    path("m/rounds/<int:pk>/", views.phone_round, name="m-round"),
    path("m/campaigns/<int:pk>/", views.phone_campaign, name="m-campaign"),
]
