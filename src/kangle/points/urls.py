from django.urls import path

from kangle.points import adjustments_views, benefits_views, views

app_name = "points"

urlpatterns = [
    path("me/", views.me, name="me"),
    path("me/visibility/", views.visibility, name="visibility"),
    path("benefits/", views.benefits, name="benefits"),
    path("slots/<int:slot_id>/book/", views.book, name="book"),
    path("bookings/<int:booking_id>/cancel/", views.cancel, name="cancel"),
    path("benefits/<int:benefit_id>/pass/", views.take_pass, name="pass"),
    path("rankings/", views.rankings, name="rankings"),
    path("rules/", views.rules, name="rules"),
    path("manage/benefits/", benefits_views.benefit_list, name="manage-benefits"),
    path("manage/benefits/<int:benefit_id>/", benefits_views.benefit_detail, name="manage-benefit"),
    path("passes/<int:pass_id>/qr.svg", benefits_views.pass_qr, name="pass-qr"),
    path("manage/passes/redeem/", benefits_views.pass_redeem, name="pass-redeem"),
    path("adjustments/", adjustments_views.adjustments_page, name="adjustments"),
    path("adjustments/new/", adjustments_views.adjust, name="adjust"),
    path("adjustments/<int:request_id>/decide/", adjustments_views.decide, name="adjust-decide"),
    path("adjustments/limit/", adjustments_views.set_limit, name="adjust-limit"),
]
