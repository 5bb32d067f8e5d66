from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "kangle.points"
    label = "points"
    verbose_name = _("Points")

    def ready(self):
        from kangle.members import panels
        from kangle.points.panels import home_panel, member_panel

        panels.register("points/_member_panel.html", member_panel, order=20)
        panels.register("points/_home_panel.html", home_panel, order=30, place="home")
        from kangle.core import navigation
        from kangle.core.roles import STAFF_ROLES, Role

        navigation.register(_("My points"), "points:me", {Role.MEMBER}, order=30, area="phone")
        navigation.register(_("Benefits"), "points:benefits", {Role.MEMBER}, order=31, area="phone")
        navigation.register(_("Points rankings"), "points:rankings", STAFF_ROLES, order=40)
        navigation.register(_("Points rules"), "points:rules", STAFF_ROLES, order=39, group="manage")
        navigation.register(
            _("Benefits and bookings"),
            "points:manage-benefits",
            STAFF_ROLES - {Role.GRID_LEADER},
            order=42,
            group="manage",
        )
        # Manual adjustments are reached from the points rules page.
