from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "kangle.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self):
        from kangle.core import navigation
        from kangle.core.roles import PHONE_ROLES

        # On the workbench the inbox is a link in the header, beside the person's name.
        navigation.register(_("Messages"), "notify:inbox", PHONE_ROLES, order=95, area="phone")
