from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "kangle.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self):
        from kangle.core import navigation
        from kangle.core.roles import PHONE_ROLES, STAFF_ROLES, Role

        everyone = STAFF_ROLES | PHONE_ROLES | {Role.EMPLOYER_PARTY_ORG}
        navigation.register(_("Messages"), "notify:inbox", everyone, order=95)
        navigation.register(_("Messages"), "notify:inbox", PHONE_ROLES, order=95, area="phone")
