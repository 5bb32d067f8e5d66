from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    """Administration of people from the workbench: staff accounts, roles, one-time codes, staff import."""

    name = "kangle.people"
    label = "people"
    verbose_name = _("People and roles")

    def ready(self):
        from kangle.core import navigation
        from kangle.core.roles import Role

        navigation.register(
            _("People and roles"), "people:list", {Role.STREET_ADMIN, Role.AREA_ADMIN}, order=80
        )
        navigation.register(_("Audit log"), "people:audit", {Role.STREET_ADMIN, Role.AREA_ADMIN}, order=90)
