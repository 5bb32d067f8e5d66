from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kangle.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from kangle.core import navigation
        from kangle.core.roles import Role

        navigation.register(_("API tokens"), "accounts:tokens", {Role.STREET_ADMIN}, order=90)
