from django.urls import path

from kangle.cases import views

app_name = "cases"

urlpatterns = [
    # desk workbench
    path("desk/", views.desk_queue, name="desk-queue"),
    path("desk/overdue/", views.desk_queue, {"overdue": True}, name="desk-overdue"),
    path("desk/new/", views.desk_new, name="desk-new"),
    path("desk/extension/<int:pk>/<str:decision>/", views.desk_extension, name="desk-extension"),
    path("desk/<str:number>/", views.desk_detail, name="desk-detail"),
    path("desk/<str:number>/<str:action>/", views.desk_act, name="desk-act"),
    path("figures/", views.figures_page, name="figures"),
    path("figures.xlsx", views.figures_export, name="figures-export"),
    # contractor phone pages
    path("c/", views.contractor_list, name="contractor-list"),
    path("c/<str:number>/", views.contractor_detail, name="contractor-detail"),
    path("c/<str:number>/reveal/", views.contractor_reveal, name="contractor-reveal"),
    path("c/<str:number>/<str:action>/", views.contractor_act, name="contractor-act"),
    # resident phone pages
    path("report/", views.resident_report, name="resident-report"),
    path("mine/", views.resident_mine, name="resident-mine"),
    path("mine/<str:number>/", views.resident_case, name="resident-case"),
    path("track/", views.track, name="track"),
    path("track/<str:number>/", views.track_case, name="track-case"),
    path("rate/<str:number>/", views.rate, name="rate"),
]
