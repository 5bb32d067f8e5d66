"""The markup tags that replace template loops: values escaped, the chosen option and the current page
marked, nothing else."""

from __future__ import annotations

from types import SimpleNamespace

from django.template import Context, Template


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
    groups = [
        {
            "key": "cases",
            "label": "民情快办",
            "items": [
                {"url": "/cases/desk/", "url_name": "cases:desk-queue", "label": "案件"},
                {"url": "/cases/new/", "url_name": "cases:desk-new", "label": "<登记>"},
            ],
        }
    ]
    request = SimpleNamespace(resolver_match=SimpleNamespace(view_name="cases:desk-new"))
    html = _render("{% workbench_nav %}", workbench_groups=groups, request=request)
    assert '<div class="wb-nav-group" data-group="cases">' in html
    assert '<a href="/cases/desk/">案件</a>' in html
    assert '<a href="/cases/new/" aria-current="page">&lt;登记&gt;</a>' in html
    assert html.count("aria-current") == 1
    assert _render("{% workbench_nav %}", workbench_groups=[], request=request) == ""
