from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "kangle.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self):
        from kangle.cases.access import case_photo_file
        from kangle.core import files

        files.register("case-photo", case_photo_file)
        from kangle.core import navigation
        from kangle.core.roles import STAFF_ROLES, Role

        navigation.register(_("Case queue"), "cases:desk-queue", STAFF_ROLES, order=40)
        navigation.register(_("Overdue cases"), "cases:desk-overdue", STAFF_ROLES, order=41)
        navigation.register(_("Log a case"), "cases:desk-new", STAFF_ROLES, order=42)
        navigation.register(_("Case figures"), "cases:figures", STAFF_ROLES, order=43)
        navigation.register(_("My cases"), "cases:contractor-list", {Role.CONTRACTOR}, order=40, area="phone")
        navigation.register(
            _("Report a problem"), "cases:resident-report", {Role.RESIDENT}, order=40, area="phone"
        )
        navigation.register(_("My reports"), "cases:resident-mine", {Role.RESIDENT}, order=41, area="phone")
