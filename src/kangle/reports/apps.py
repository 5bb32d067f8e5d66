from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "kangle.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from kangle.core import navigation
        from kangle.core.roles import Role

        navigation.register(
            _("Street cockpit"), "reports:cockpit", {Role.STREET_ADMIN, Role.AREA_ADMIN}, order=5
        )
