from django.urls import path

from kangle.reports import views

app_name = "reports"
urlpatterns = [
    path("search/", views.search_page, name="search"),
    path("cockpit/", views.cockpit, name="cockpit"),
    path("map/", views.map_page, name="map"),
    path("map/data/", views.map_data, name="map-data"),
    path("cockpit.xlsx", views.cockpit_export, name="cockpit-export"),
]
