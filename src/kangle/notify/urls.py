from django.urls import path

from kangle.notify import views, views_login

app_name = "notify"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/read/", views.mark_read, name="read"),
    path("code/", views_login.code_login, name="code-login"),
    path("signup/", views_login.resident_signup, name="signup"),
]
