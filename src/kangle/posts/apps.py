from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PostsConfig(AppConfig):
    name = "kangle.posts"
    label = "posts"
    verbose_name = _("Service posts")

    def ready(self):
        from kangle.members import panels
        from kangle.posts.panels import home_panel

        panels.register("posts/_home_panel.html", home_panel, order=20, place="home")
        from kangle.core import navigation
        from kangle.core.roles import STAFF_ROLES, Role

        navigation.register(_("Service posts"), "posts:list", STAFF_ROLES, order=30)
        # Bulk assignment is reached from the posts list (its button), not the navigation.
        navigation.register(
            _("Service catalogue"), "posts:catalogue", {Role.STREET_ADMIN}, order=32, group="manage"
        )
        navigation.register(_("Recommended for you"), "posts:for-me", {Role.MEMBER}, order=5, area="phone")
        navigation.register(_("My posts"), "posts:mine", {Role.MEMBER}, order=6, area="phone")
        from kangle.core import todo
        from kangle.posts import todo as lines

        todo.register(
            "posts.claims", lines.claims_to_confirm, STAFF_ROLES - {Role.GRID_LEADER}, person_only=True
        )
