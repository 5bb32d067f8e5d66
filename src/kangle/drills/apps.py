from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DrillsConfig(AppConfig):
    name = "kangle.drills"
    label = "drills"
    verbose_name = _("Drill register")

    def ready(self):
        from kangle.core import navigation
        from kangle.core.roles import STAFF_ROLES

        navigation.register(_("Fire drills"), "drills:homes", STAFF_ROLES, order=70)
