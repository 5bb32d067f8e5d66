from django.urls import path

from kangle.drills import views

app_name = "drills"

urlpatterns = [
    path("", views.homes, name="homes"),
    path("homes/save/", views.home_save, name="home-save"),
    path("<int:pk>/", views.drill_detail, name="drill"),
    path("<int:pk>/<slug:action>/", views.drill_act, name="drill-act"),
    path("follow-ups/<int:pk>/done/", views.follow_up_done, name="follow-up-done"),
]
