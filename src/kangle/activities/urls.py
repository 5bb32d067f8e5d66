from django.urls import path

from kangle.activities import views, views_grid

app_name = "activities"
urlpatterns = [
    path("", views.activity_list, name="list"),
    path("new/", views.activity_create, name="create"),
    path("<int:pk>/", views.activity_detail, name="detail"),
    path("<int:pk>/screen/", views.screen, name="screen"),
    path("<int:pk>/screen/qr/", views.screen_qr, name="screen-qr"),
    path("<int:pk>/do/<str:action>/", views.activity_action, name="action"),
    path("calls/", views.call_list, name="calls"),
    path("calls/new/", views.call_create, name="call-create"),
    path("calls/<int:pk>/", views.call_detail, name="call-detail"),
    path("records/", views.record_list, name="records"),
    path("records/<int:pk>/decide/", views.record_decide, name="record-decide"),
    path("figures/", views.figures_page, name="figures"),
    path("figures.xlsx", views.figures_export, name="figures-export"),
    path("grid/", views.grid_page, name="grid"),
    path("m/", views.phone_list, name="phone-list"),
    path("m/<int:pk>/", views.phone_detail, name="phone-detail"),
    path("m/scan/<int:pk>/<str:action>/", views.scan, name="scan"),
    path("m/calls/", views.phone_calls, name="phone-calls"),
    path("m/calls/<int:pk>/", views.phone_call, name="phone-call"),
    path("m/records/", views.my_records, name="my-records"),
    path("m/sessions/", views.phone_sessions, name="phone-sessions"),
    path("m/grid/", views_grid.grid_home, name="m-grid"),
    path("m/grid/calls/<int:pk>/", views_grid.grid_call, name="m-grid-call"),
    path("m/grid/todo/", views_grid.grid_todo, name="m-grid-todo"),
    path("party/calls/", views.party_calls, name="party-calls"),
    path("party/calls/<int:pk>/", views.collective, name="collective"),
    path("party/activities/<int:pk>/", views.team_signup, name="team-signup"),
]
