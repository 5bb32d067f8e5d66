from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "kangle.orgs"
    label = "orgs"
    verbose_name = _("Organisation")

    def ready(self):
        from kangle.core import navigation
        from kangle.core.roles import STAFF_ROLES

        navigation.register(_("Registration points"), "orgs:registration-points", STAFF_ROLES, order=10)
        navigation.register(_("Venues"), "orgs:venues", STAFF_ROLES, order=11)
