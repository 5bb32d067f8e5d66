from django.urls import path

from kangle.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("me/", views.me, name="me"),
    path("text-size/", views.text_size, name="text-size"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change, name="password-change"),
    path("todo/", views.todo_lines, name="todo"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<str:prefix>/revoke/", views.token_revoke, name="token-revoke"),
]
