"""Django's template backend, with ``{% load i18n %}`` loading ``core.templatetags.kept_i18n``: Django's
own tags, a fixed phrase's translation kept once rendered."""

from __future__ import annotations

from django.template.backends import django as django_backend

I18N = "kangle.core.templatetags.kept_i18n"


class DjangoTemplates(django_backend.DjangoTemplates):
    def get_templatetag_libraries(self, custom_libraries):
        return {**super().get_templatetag_libraries(custom_libraries), "i18n": I18N}

    def check(self, **kwargs):
        """Django's checks, less its warning that ``i18n`` names two modules (Django's and the one taking its
        place here, on purpose); any other name used twice is still warned of."""
        # Django's own text for that one case: should Django reword it, the warning comes back (loudly).
        deliberate = f"'i18n' is used for multiple template tag modules: 'django.templatetags.i18n', '{I18N}'"
        return [
            found
            for found in super().check(**kwargs)
            if not (found.id == "templates.W003" and found.msg == deliberate)
        ]
