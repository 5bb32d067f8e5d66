"""``{% load i18n %}`` loads Django's tags with a fixed phrase's translation kept once rendered: every form of
every tag renders exactly what Django's own library renders, in either language, however often and in
whatever order the languages come."""

from __future__ import annotations

import pytest
from django.template import Context, Engine, engines
from django.utils import translation

from kangle.core.templatetags import kept_i18n

SOURCE = (
    "{% load i18n %}"
    '{% translate "Members" %}|{% trans "Community" %}|{% translate "Status" %}|'
    '{% translate "100% <b>sure</b> & it\'s \\"so\\"" %}|'
    '{% translate "Members" noop %}|{% translate "May" context "month name" %}|'
    '{% translate "Status" as word %}[{{ word }}]|{% translate "Status"|upper %}|'
    "{% translate phrase %}|{% translate markup %}|"
    "{% autoescape off %}{% translate markup %}{% translate 'Members' %}{% endautoescape %}|"
    "{% blocktranslate with name=markup %}Default: {{ name }}{% endblocktranslate %}|"
    "{% get_current_language as code %}{{ code }}"
)
CONTEXT = {"phrase": "Community", "markup": "<i>Members</i>"}


def _engine(libraries: dict[str, str]) -> Engine:
    project = engines["django"].engine
    return Engine(libraries={**project.libraries, **libraries}, debug=False)


@pytest.fixture
def both():
    kept_i18n.forget_translations()
    yield (
        _engine({"i18n": "django.templatetags.i18n"}).from_string(SOURCE),
        _engine({}).from_string(SOURCE),
    )
    kept_i18n.forget_translations()


def test_the_project_loads_the_kept_library_under_djangos_name():
    assert engines["django"].engine.libraries["i18n"] == "kangle.core.templatetags.kept_i18n"
    assert engines["django"].check() == []  # Django's warning of the name taken on purpose is left out
    template = engines["django"].from_string('{% load i18n %}{% translate "Members" %}')
    assert isinstance(template.template.nodelist[-1], kept_i18n.KeptTranslateNode)


def test_every_form_renders_what_djangos_library_renders(both):
    django_template, kept_template = both
    for language in ("zh-hans", "en", "zh-hans", "en"):
        with translation.override(language):
            for _repeat in range(2):
                expected = django_template.render(Context(CONTEXT))
                assert kept_template.render(Context(CONTEXT)) == expected
    with translation.override("zh-hans"):
        rendered = kept_template.render(Context(CONTEXT))
    # The check means something: the fixed phrases were translated (``noop`` alone left as written), the
    # variable ones escaped unless escaping is off.
    with translation.override("zh-hans"):
        members = translation.gettext("Members")
    parts = rendered.split("|")
    assert members != "Members" and parts[0] == members and parts[4] == "Members"
    assert "&lt;i&gt;" in rendered and "<i>Members</i>" in rendered


def test_only_fixed_phrases_are_kept(both):
    _django_template, kept_template = both
    with translation.override("en"):
        kept_template.render(Context(CONTEXT))
    phrases = {phrase for _language, _escaping, phrase in kept_i18n._KEPT}
    assert phrases == {"Members", "Community", "Status", '100% <b>sure</b> & it\'s "so"'}
    languages = {language for language, _escaping, _phrase in kept_i18n._KEPT}
    assert languages == {"en"}


def test_forgetting_renders_the_phrases_anew(both):
    _django_template, kept_template = both
    with translation.override("en"):
        kept_template.render(Context(CONTEXT))
    assert kept_i18n._KEPT
    kept_i18n.forget_translations()
    assert not kept_i18n._KEPT


def test_the_bound_keeps_the_process_from_growing(monkeypatch):
    monkeypatch.setattr(kept_i18n, "KEPT_MAX", 3)
    kept_i18n.forget_translations()
    template = _engine({}).from_string(
        "{% load i18n %}" + "".join(f'{{% translate "Phrase {n}" %}}' for n in range(7))
    )
    with translation.override("en"):
        assert template.render(Context()) == "".join(f"Phrase {n}" for n in range(7))
    assert len(kept_i18n._KEPT) <= 3
    kept_i18n.forget_translations()


def test_django_still_warns_of_other_tag_libraries_under_one_name():
    backend = engines["django"]
    assert backend.check() == []
    original = dict(backend.engine.libraries)
    try:
        backend.engine.libraries["html_parts"] = "django.templatetags.static"
        warnings = backend.check()
    finally:
        backend.engine.libraries.clear()
        backend.engine.libraries.update(original)
    assert [warning.id for warning in warnings] == ["templates.W003"]
    assert "'html_parts'" in warnings[0].msg and "django.templatetags.static" in warnings[0].msg


@pytest.mark.parametrize("setting", ["LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "INSTALLED_APPS"])
def test_a_setting_that_reloads_translations_drops_the_kept_phrases(setting, both):
    from django.conf import settings
    from django.test import override_settings

    _django_template, kept_template = both
    with translation.override("en"):
        kept_template.render(Context(CONTEXT))
    assert kept_i18n._KEPT
    with override_settings(**{setting: getattr(settings, setting)}):
        assert not kept_i18n._KEPT
