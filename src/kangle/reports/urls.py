from django.urls import path

from kangle.reports import views

app_name = "reports"
urlpatterns = [
    path("search/", views.search_page, name="search"),
]
