from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PreventionConfig(AppConfig):
    name = "kangle.prevention"
    label = "prevention"
    verbose_name = _("Prevention")

    def ready(self):
        from kangle.core import files
        from kangle.prevention.access import reading_photo_file, spraying_photo_file

        files.register("reading-photo", reading_photo_file)
        files.register("spraying-photo", spraying_photo_file)
        from kangle.core import navigation
        from kangle.core.roles import STAFF_ROLES, Role

        navigation.register(
            _("Termite warnings"), "prevention:dashboard", STAFF_ROLES, order=60, group="termite"
        )
        navigation.register(_("Monitoring points"), "prevention:points", STAFF_ROLES, order=61)
        navigation.register(_("Inspection rounds"), "prevention:rounds", STAFF_ROLES, order=62)
        navigation.register(_("Warning list"), "prevention:warnings", STAFF_ROLES, order=63)
        navigation.register(_("Inspection campaigns"), "prevention:campaigns", STAFF_ROLES, order=64)
        navigation.register(_("Inspection on the phone"), "prevention:m-home", STAFF_ROLES, order=65)
        navigation.register(_("Inspection"), "prevention:m-home", {Role.CONTRACTOR}, order=60, area="phone")
