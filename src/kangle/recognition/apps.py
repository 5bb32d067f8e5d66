from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecognitionConfig(AppConfig):
    name = "kangle.recognition"
    label = "recognition"
    verbose_name = _("Recognition")

    def ready(self):
        from kangle.members import panels
        from kangle.recognition.panels import member_panel

        panels.register("recognition/_member_panel.html", member_panel, order=30)
        from kangle.core import navigation
        from kangle.core.roles import STAFF_ROLES, Role

        navigation.register(
            _("Commendation letters"),
            "recognition:letters",
            STAFF_ROLES | {Role.EMPLOYER_PARTY_ORG},
            order=41,
            group="figures",
        )
        navigation.register(_("Honour nominations"), "recognition:nominations", STAFF_ROLES, order=42)
        navigation.register(_("My honours"), "recognition:me", {Role.MEMBER}, order=32, area="phone")
        navigation.register(_("Member stories"), "recognition:stories", {Role.MEMBER}, order=33, area="phone")
        navigation.register(
            _("Write member stories"),
            "recognition:manage-stories",
            STAFF_ROLES - {Role.GRID_LEADER},
            order=43,
        )
        from kangle.core import files
        from kangle.recognition.stories import story_photo_file

        files.register("story-photo", story_photo_file)
        from kangle.core import todo
        from kangle.recognition import todo as lines

        todo.register(
            "recognition.nominations",
            lines.nominations_to_review,
            {Role.AREA_ADMIN, Role.STREET_ADMIN},
            person_only=True,
        )
