"""The markup tags that replace template loops: values escaped, the chosen option and the current page
marked, nothing else."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.template import Context, Template

# A navigation group whose second entry's label needs escaping.
_CASE_GROUPS = [
    {
        "key": "cases",
        "label": "民情快办",
        "items": [
            {"url": "/cases/desk/", "url_name": "cases:desk-queue", "label": "案件"},
            {"url": "/cases/new/", "url_name": "cases:desk-new", "label": "<登记>"},
        ],
    }
]


def _render(source: str, **context) -> str:
    return Template("{% load html_parts %}" + source).render(Context(context))


def test_options_escape_values_and_labels_and_mark_the_selected_one():
    html = _render(
        "{% select_options choices chosen %}",
        choices=[("a", "甲"), ('"><script>', "<b>x</b>"), (7, "七")],
        chosen=7,
    )
    assert '<option value="a">甲</option>' in html
    assert "<script>" not in html and "<b>" not in html
    assert "&quot;&gt;&lt;script&gt;" in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert '<option value="7" selected>七</option>' in html
    assert html.count("selected") == 1


def test_nothing_selected_when_the_filter_is_empty():
    assert "selected" not in _render(
        "{% select_options choices chosen %}", choices=[("a", "甲"), ("b", "乙")]
    )


def test_navigation_marks_only_the_current_page():
    groups = _CASE_GROUPS
    request = SimpleNamespace(resolver_match=SimpleNamespace(view_name="cases:desk-new"))
    html = _render("{% workbench_nav %}", workbench_groups=groups, request=request)
    assert '<div class="wb-nav-group" data-group="cases">' in html
    assert '<a href="/cases/desk/">案件</a>' in html
    assert '<a href="/cases/new/" aria-current="page">&lt;登记&gt;</a>' in html
    assert html.count("aria-current") == 1
    assert _render("{% workbench_nav %}", workbench_groups=[], request=request) == ""


def test_remembered_options_follow_the_language_the_selection_and_the_data():
    from django.utils.translation import gettext_lazy, override

    choices = [("open", gettext_lazy("Open")), ("closed", "乙")]
    with override("en"):
        english = _render("{% select_options choices chosen %}", choices=choices, chosen="open")
    with override("zh-hans"):
        chinese = _render("{% select_options choices chosen %}", choices=choices, chosen="open")
        other = _render("{% select_options choices chosen %}", choices=choices, chosen="closed")
        renamed = _render(
            "{% select_options choices chosen %}", choices=[("open", "甲"), ("closed", "乙")], chosen="open"
        )
    assert '<option value="open" selected>Open</option>' in english
    assert '<option value="open" selected>办理中</option>' in chinese
    assert '<option value="closed" selected>乙</option>' in other and 'open" selected' not in other
    assert '<option value="open" selected>甲</option>' in renamed


def test_options_from_a_generator_render_the_same_on_every_call():
    first = _render("{% select_options choices %}", choices=((str(n), f"第{n}") for n in range(3)))
    again = _render("{% select_options choices %}", choices=((str(n), f"第{n}") for n in range(3)))
    assert first == again and first.count("<option") == 3


def test_remembered_navigation_follows_its_key_and_the_current_page():
    groups = _CASE_GROUPS
    english = [{**groups[0], "label": "Cases"}]

    def page(view_name, made_from, shown):
        request = SimpleNamespace(resolver_match=SimpleNamespace(view_name=view_name))
        return _render(
            "{% workbench_nav %}", workbench_groups=shown, workbench_key=made_from, request=request
        )

    queue = page("cases:desk-queue", ("roles", "zh-hans"), groups)
    new = page("cases:desk-new", ("roles", "zh-hans"), groups)
    assert (
        '<a href="/cases/desk/" aria-current="page">' in queue and 'aria-current="page">&lt;登记&gt;' in new
    )
    assert page("cases:desk-queue", ("roles", "zh-hans"), groups) == queue
    assert ">Cases<" in page("cases:desk-queue", ("roles", "en"), english)


def test_options_equal_as_keys_but_not_as_markup_are_told_apart():
    from django.utils.safestring import mark_safe

    assert ">True<" in _render("{% select_options choices %}", choices=[("a", True)])
    assert ">1<" in _render("{% select_options choices %}", choices=[("a", 1)])
    assert ">&lt;b&gt;<" in _render("{% select_options choices %}", choices=[("a", "<b>")])
    assert "><b><" in _render("{% select_options choices %}", choices=[("a", mark_safe("<b>"))])


def test_an_object_label_is_rendered_as_it_is_now():
    class Unit:
        def __init__(self, name):
            self.name = name

        def __str__(self):
            return self.name

        def __eq__(self, other):  # equal by key, as model instances are
            return True

        def __hash__(self):
            return 1

    assert ">甲<" in _render("{% select_options choices %}", choices=[("u", Unit("甲"))])
    assert ">乙<" in _render("{% select_options choices %}", choices=[("u", Unit("乙"))])


def test_a_selected_value_that_is_no_option_selects_nothing():
    html = _render("{% select_options choices chosen %}", choices=[("a", "甲")], chosen="<zzz>")
    assert "selected" not in html and "zzz" not in html


# The layout's navigation and breadcrumb as a template would write them (the tags build them in Python).
_NAV_AND_BREADCRUMB_BEFORE = """{% load i18n html_parts %}\
{% if workbench_groups %}<nav class="wb-nav" aria-label="{% translate 'Navigation' %}">
<a href="{% url 'home' %}"{% if request.resolver_match.view_name == "home" %} aria-current="page"{% endif %}>\
{% translate "To do" %}</a>
<details class="wb-nav-menu" open>
<summary>{% translate "Menu" %}</summary>
{{ groups_markup }}
</details>
</nav>{% endif %}\
{% if user.is_authenticated %}<nav class="breadcrumb" aria-label="{% translate 'Breadcrumb' %}">\
<a href="{% url 'home' %}">{% translate "Workbench" %}</a>{% for crumb in breadcrumb %} › \
{% if crumb.url %}<a href="{{ crumb.url }}">{{ crumb.label }}</a>{% else %}<span>{{ crumb.label }}</span>{% endif %}\
{% endfor %}</nav>{% endif %}"""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("view_name", ["home", "cases:desk-new", None])
@pytest.mark.parametrize("signed_in", [True, False])
def test_navigation_and_breadcrumb_write_what_the_template_wrote(language, view_name, signed_in):
    from django.utils.translation import override

    from kangle.core.templatetags import html_parts

    groups = _CASE_GROUPS
    crumbs = [{"label": "民情快办 & <b>", "url": ""}, {"label": "案件", "url": "/cases/desk/?a=1&b=<2>"}]
    match = SimpleNamespace(view_name=view_name) if view_name else None
    context = {
        "workbench_groups": groups,
        "breadcrumb": crumbs,
        "request": SimpleNamespace(resolver_match=match),
        "user": SimpleNamespace(is_authenticated=signed_in),
    }
    with override(language):
        # The groups themselves, as the old template's tag wrote them.
        groups_markup = html_parts._groups(groups, view_name)
        before = Template(_NAV_AND_BREADCRUMB_BEFORE).render(
            Context({**context, "groups_markup": groups_markup})
        )
        after = _render("{% workbench_nav %}{% workbench_breadcrumb %}", **context)
        without_groups = _render("{% workbench_nav %}", **{**context, "workbench_groups": []})
    assert after == before
    assert ("aria-current" in after) == (view_name is not None)
    assert ("breadcrumb" in after) == signed_in
    assert "<b>" not in after and "&lt;登记&gt;" in after
    assert without_groups == ""
