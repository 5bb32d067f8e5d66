from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kangle.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from kangle.core import navigation
        from kangle.core.roles import Role

        self._register_phone_tabs(navigation, Role)

    @staticmethod
    def _register_phone_tabs(navigation, Role):
        """The phone tab bar of every phone role, in one place so no role ever gets more than five."""
        from django.utils.translation import pgettext_lazy

        phone_people = {Role.MEMBER, Role.RESIDENT, Role.CONTRACTOR, Role.GRID_LEADER}
        tabs = [
            (pgettext_lazy("phone tab", "Home"), "members:m-home", {Role.MEMBER}, 0),
            # A grid leader's home is their grid (the 网格 tab); residents and contractors have a home page.
            (pgettext_lazy("phone tab", "Home"), "home", {Role.RESIDENT, Role.CONTRACTOR}, 0),
            (pgettext_lazy("phone tab", "Services"), "posts:for-me", {Role.MEMBER}, 10),
            (pgettext_lazy("phone tab", "Report a problem"), "cases:resident-report", {Role.RESIDENT}, 10),
            (pgettext_lazy("phone tab", "Cases"), "cases:contractor-list", {Role.CONTRACTOR}, 10),
            (pgettext_lazy("phone tab", "My grid"), "activities:m-grid", {Role.GRID_LEADER}, 15),
            (pgettext_lazy("phone tab", "Activities"), "activities:phone-list", {Role.MEMBER}, 20),
            (pgettext_lazy("phone tab", "Inspection"), "prevention:m-home", {Role.CONTRACTOR}, 20),
            (pgettext_lazy("phone tab", "My reports"), "cases:resident-mine", {Role.RESIDENT}, 20),
            (pgettext_lazy("phone tab", "Grid to-do"), "activities:m-grid-todo", {Role.GRID_LEADER}, 25),
            (pgettext_lazy("phone tab", "Points"), "points:me", {Role.MEMBER}, 30),
            (pgettext_lazy("phone tab", "Messages"), "notify:inbox", {Role.GRID_LEADER}, 40),
            (pgettext_lazy("phone tab", "Me"), "accounts:me", phone_people, 99),
        ]
        for label, url_name, roles, order in tabs:
            navigation.register(label, url_name, roles, order=order, area="tab")
