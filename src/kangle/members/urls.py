from django.urls import path

from kangle.members import party_views, staff_import_views, views

app_name = "members"
urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/places/", views.place_search, name="place-search"),
    path("me/", views.me, name="me"),
    path("m/home/", views.phone_home, name="m-home"),
    path("me/edit/", views.me_edit, name="me-edit"),
    path("", views.member_list, name="list"),
    path("new/", views.member_new, name="new"),
    path("export.xlsx", views.member_export, name="export"),
    path("template.xlsx", views.template_download, name="template"),
    path("communities/", views.community_search, name="community-search"),
    path("<int:pk>/", views.member_detail, name="detail"),
    path("<int:pk>/reveal/", views.member_reveal, name="reveal"),
    path("<int:pk>/edit/", views.member_edit, name="edit"),
    path("<int:pk>/<str:action>/", views.member_action, name="action"),
    path("import/", views.import_start, name="import"),
    path("import/<uuid:pk>/", views.import_job, name="import-job"),
    path("import/<uuid:pk>/progress/", views.import_progress, name="import-progress"),
    path("collective/", views.collective, name="collective"),
    path("employers/", views.employers, name="employers"),
    path("party-orgs/", party_views.party_orgs, name="party-orgs"),
    path("party-orgs/link/", party_views.party_org_link, name="party-org-link"),
    path("staff-import/", staff_import_views.staff_import_page, name="staff-import"),
    path("base-numbers/", views.base_numbers, name="base-numbers"),
    path("base-numbers.xlsx", views.base_numbers_xlsx, name="base-numbers-xlsx"),
]
