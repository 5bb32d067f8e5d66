from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PostsConfig(AppConfig):
    name = "kangle.posts"
    label = "posts"
    verbose_name = _("Service posts")
