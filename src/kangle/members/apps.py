from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "kangle.members"
    label = "members"
    verbose_name = _("Members")

    def ready(self):
        from kangle.core import navigation
        from kangle.core.roles import STAFF_ROLES, Role

        navigation.register(_("Members"), "members:list", STAFF_ROLES, order=20)
        navigation.register(_("Register a member"), "members:new", STAFF_ROLES - {Role.GRID_LEADER}, order=21)
        # Reached from the pages they belong to (at most ~8 links a group): importing from the member list,
        # Party-organisation and staff accounts from 人员与角色.
        navigation.register(
            _("Base numbers"),
            "members:base-numbers",
            STAFF_ROLES - {Role.GRID_LEADER},
            order=23,
            group="figures",
        )
        navigation.register(_("Employers"), "members:employers", STAFF_ROLES, order=24, group="manage")
        navigation.register(
            _("Collective registration"), "members:collective", {Role.EMPLOYER_PARTY_ORG}, order=20
        )
        navigation.register(_("My file"), "members:me", {Role.MEMBER}, order=10, area="phone")
        from kangle.members.placement import follow_move
        from kangle.orgs import moves

        moves.on_move(follow_move)  # a moved unit takes its member files along
        from kangle.core import todo
        from kangle.members import todo as lines

        todo.register(
            "members.pending",
            lines.registrations_to_approve,
            STAFF_ROLES - {Role.GRID_LEADER},
            person_only=True,
        )
