from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "kangle.activities"
    label = "activities"
    verbose_name = _("Activities")

    def ready(self):
        from kangle.activities.access import record_photo_file
        from kangle.core import files

        files.register("record-photo", record_photo_file)
        from kangle.activities.panels import home_panel, member_panel
        from kangle.members import panels

        panels.register("activities/_member_panel.html", member_panel, order=10)
        panels.register("activities/_home_panel.html", home_panel, order=10, place="home")
        from kangle.core import navigation
        from kangle.core.roles import STAFF_ROLES, Role

        navigation.register(_("Activities"), "activities:list", STAFF_ROLES, order=40)
        navigation.register(_("Whistle calls"), "activities:calls", STAFF_ROLES, order=41)
        navigation.register(_("Service records"), "activities:records", STAFF_ROLES, order=42)
        navigation.register(_("Activity figures"), "activities:figures", STAFF_ROLES, order=43)
        navigation.register(_("My grid"), "activities:grid", {Role.GRID_LEADER}, order=44)
        navigation.register(_("Whistle calls"), "activities:party-calls", {Role.EMPLOYER_PARTY_ORG}, order=40)
        navigation.register(_("Activities"), "activities:phone-list", {Role.MEMBER}, order=10, area="phone")
        navigation.register(
            _("Whistle calls"), "activities:phone-calls", {Role.MEMBER}, order=11, area="phone"
        )
        navigation.register(_("My service"), "activities:my-records", {Role.MEMBER}, order=12, area="phone")
        from kangle.activities import todo as lines
        from kangle.core import todo

        todo.register(
            "activities.records", lines.records_to_verify, STAFF_ROLES - {Role.GRID_LEADER}, person_only=True
        )
        todo.register("activities.calls", lines.open_calls, STAFF_ROLES, person_only=True)
