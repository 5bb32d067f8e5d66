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
        navigation.register(
            _("Case categories and SLA"), "cases:ref-categories", {Role.STREET_ADMIN}, order=86
        )
        navigation.register(_("Contractors"), "cases:ref-contractors", {Role.STREET_ADMIN}, order=87)
        navigation.register(_("Holiday calendar"), "cases:ref-calendar", {Role.STREET_ADMIN}, order=88)
        navigation.register(_("My cases"), "cases:contractor-list", {Role.CONTRACTOR}, order=40, area="phone")
        navigation.register(
            _("Report a problem"), "cases:resident-report", {Role.RESIDENT}, order=40, area="phone"
        )
        navigation.register(_("My reports"), "cases:resident-mine", {Role.RESIDENT}, order=41, area="phone")
        from kangle.cases import todo as lines
        from kangle.cases.permissions import DESK_ROLES, SUPERVISOR_ROLES
        from kangle.core import todo

        todo.register("cases.breached", lines.breached, DESK_ROLES)
        todo.register("cases.due_soon", lines.due_soon, DESK_ROLES)
        # The clock lines depend on the time; the others on the person alone.
        todo.register("cases.extensions", lines.extensions, SUPERVISOR_ROLES, person_only=True)
        todo.register("cases.returned", lines.returned, DESK_ROLES, person_only=True)
        todo.register("cases.dispatch", lines.to_dispatch, DESK_ROLES, person_only=True)
