from pathlib import Path

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kangle.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from django.contrib import admin
        from django.core.signals import setting_changed
        from django.utils.autoreload import file_changed

        from kangle.core import at_rest, public_url  # noqa: F401 (public_url registers its system check)

        file_changed.connect(forget_rendered_markup, dispatch_uid="kangle_forget_rendered_markup")
        setting_changed.connect(_forget_on_translation_settings, dispatch_uid="kangle_forget_on_settings")

        at_rest.protect_from_settings()

        # The Django admin is for platform operators only; a street runs itself from the workbench.
        admin.site.has_permission = _operators_only
        admin.site.site_header = _("Kangle administration")
        admin.site.site_title = _("Kangle")
        from kangle.core import navigation
        from kangle.core.roles import PHONE_ROLES, STAFF_ROLES, Role

        everyone = STAFF_ROLES | PHONE_ROLES | {Role.EMPLOYER_PARTY_ORG}
        navigation.register(_("Home"), "home", everyone, order=0, area="phone")


def _operators_only(request) -> bool:
    return request.user.is_active and request.user.is_superuser


def forget_rendered_markup(sender=None, file_path=None, **kwargs) -> None:
    """The development server's reloader saw a file change: when it is not Python code (a template, a
    translation), drop the markup and words kept per process (layout stencils, navigation, drop-downs,
    duration words, translated phrases), as Django reloads those files without restarting the process.
    Returns nothing, so Django's own handling of the change goes on. A running server's files never
    change."""
    if file_path is not None and Path(file_path).suffix == ".py":
        return
    forget_kept_markup()


def _forget_on_translation_settings(*, setting, **kwargs) -> None:
    # Where Django itself reloads its translations when a setting changes (a test's override_settings).
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "INSTALLED_APPS"}:
        forget_kept_markup()


def forget_kept_markup() -> None:
    """Drop every piece of markup and every word kept per process; each is made anew on its next use."""
    from kangle.core import markup, timeutil
    from kangle.core.templatetags import html_parts, kept_i18n

    markup.forget_stencils()
    html_parts.forget_markup()
    timeutil.forget_duration_words()
    kept_i18n.forget_translations()
