from django.urls import path

from kangle.posts import views

app_name = "posts"
urlpatterns = [
    path("", views.post_list, name="list"),
    path("new/", views.post_new, name="new"),
    path("<int:pk>/", views.post_detail, name="detail"),
    path("<int:pk>/edit/", views.post_edit, name="edit"),
    path("<int:pk>/status/<str:action>/", views.post_status, name="status"),
    path("<int:pk>/invite/<int:member_pk>/", views.post_invite, name="invite"),
    path("claims/<int:pk>/<str:action>/", views.claim_action, name="claim-action"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("bulk/", views.bulk_start, name="bulk"),
    path("bulk/<int:pk>/", views.bulk_proposal, name="bulk-proposal"),
    path("for-me/", views.for_me, name="for-me"),
    path("mine/", views.my_claims, name="mine"),
    path("p/<int:pk>/", views.phone_detail, name="phone-detail"),
    path("p/<int:pk>/claim/", views.phone_claim, name="phone-claim"),
    path("notice/<str:code>/", views.notice, name="notice"),
    path("notice/<str:code>/qr.svg", views.notice_qr, name="notice-qr"),
]
