from django.urls import path

from kangle.people import audit_views, views

app_name = "people"
urlpatterns = [
    path("audit/", audit_views.audit_list, name="audit"),
    path("audit/personal-data/", audit_views.audit_list, {"personal_data": True}, name="audit-personal-data"),
    path("audit/export.xlsx", audit_views.audit_export, name="audit-export"),
    path("audit/<int:event_id>/", audit_views.audit_detail, name="audit-event"),
    path("", views.people_list, name="list"),
    path("new/", views.account_new, name="account-new"),
    path("users/<int:user_id>/", views.user_detail, name="user"),
    path("users/<int:user_id>/grant/", views.user_grant, name="user-grant"),
    path("users/<int:user_id>/disable/", views.user_disable, name="user-disable"),
    path("users/<int:user_id>/enable/", views.user_enable, name="user-enable"),
    path("users/<int:user_id>/reset-password/", views.user_reset_password, name="user-reset-password"),
    path("roles/<int:assignment_id>/revoke/", views.assignment_revoke, name="role-revoke"),
    path("units/<str:code>/", views.unit_people, name="unit"),
    path("units/<str:code>/grid-leader/", views.grid_leader_appoint, name="grid-leader"),
]
