"""Open311 GeoReport v2 endpoints: /open311/v2/services.json, …/requests.xml, …"""

from django.urls import path

from kangle.cases import open311

app_name = "open311"

urlpatterns = [
    path("services.<str:fmt>", open311.services_list, name="services"),
    path("services/<str:code>.<str:fmt>", open311.service_definition, name="service"),
    path("requests.<str:fmt>", open311.requests_view, name="requests"),
    path("requests/<str:number>.<str:fmt>", open311.request_detail, name="request"),
]
