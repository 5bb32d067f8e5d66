"""Markup and words kept per process are dropped when the development server's reloader sees a file other than
Python code change (a template, a translation: Django reloads those without restarting the process), and only
then."""

from __future__ import annotations

from pathlib import Path

from django.template import Context, Engine
from django.utils import translation
from django.utils.autoreload import file_changed

from kangle.core import markup, timeutil
from kangle.core.apps import forget_rendered_markup
from kangle.core.templatetags import html_parts, kept_i18n


def _keep_something():
    for stencil in markup._STENCILS:
        stencil.render(("test",), {}, dict.fromkeys(stencil.holes, ""))
    html_parts.select_options([("a", "甲")], "a")
    html_parts._NAVIGATION[("test",)] = "<nav></nav>"
    with translation.override("en"):
        timeutil.duration_words()
        Engine(libraries={"i18n": "kangle.core.templatetags.kept_i18n"}).from_string(
            '{% load i18n %}{% translate "Members" %}'
        ).render(Context())


def _kept() -> list[int]:
    return [
        sum(len(stencil._made) for stencil in markup._STENCILS),
        len(html_parts._OPTIONS),
        len(html_parts._NAVIGATION),
        len(timeutil._DURATION_WORDS),
        len(kept_i18n._KEPT),
    ]


def test_the_reloader_tells_the_product_of_changed_files():
    assert any(key[0] == "kangle_forget_rendered_markup" for key, *_rest in file_changed.receivers)


def test_a_changed_template_or_translation_drops_what_was_kept_and_code_does_not():
    # Called as the reloader's signal calls it (sending the signal itself would also make Django drop its
    # own translations for the whole test process).
    assert len(markup._STENCILS) >= 2  # the workbench header and the language switch
    _keep_something()
    forget_rendered_markup(sender=None, file_path=Path("src/kangle/core/views.py"))
    assert all(_kept())
    for changed in (
        "src/kangle/core/templates/core/_workbench_header.html",
        "locale/zh_Hans/django.mo",
        "src/kangle/core/templates/core/notice.txt",
    ):
        _keep_something()
        assert all(_kept())
        forget_rendered_markup(sender=None, file_path=Path(changed))
        assert _kept() == [0, 0, 0, 0, 0]
