"""``core.markup.html_format`` escapes exactly as Django's ``format_html`` does, value by value."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy, override

from kangle.core.markup import escaped, html_format


class _Marked:
    """An object that renders itself as markup (``__html__``), as forms' widgets do."""

    def __html__(self):
        return "<i>own</i>"


VALUES = [
    "plain",
    "<script>alert('x')</script>",
    "a \"quoted\" & 'single' value",
    "湖南街道 <白蚁>",
    mark_safe("<b>kept</b>"),
    gettext_lazy("Open"),
    None,
    0,
    12.5,
    dt.date(2026, 11, 30),
    _Marked(),
    "{} braces {0} stay text",
    # Each character escaping replaces, alone in its value.
    "AT&T",
    "a < b",
    "b > a",
    'say "hi"',
    "O'Brien",
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_each_value_comes_out_as_format_html_gives_it(value):
    with override("zh-hans"):
        assert html_format("<td>{}</td>", value) == format_html("<td>{}</td>", value)
        assert escaped(value) == str(format_html("{}", value))


def test_a_row_of_many_values_matches_and_is_safe():
    template = "<tr>" + "<td>{}</td>" * len(VALUES) + "</tr>"
    with override("en"):
        built = html_format(template, *VALUES)
        assert built == format_html(template, *VALUES)
    assert isinstance(built, SafeString)
    assert "<script>" not in built and "&lt;script&gt;" in built


def test_lazy_text_that_translates_to_safe_markup_stays_as_it_is():
    from django.utils.functional import lazy

    safe_later = lazy(lambda: mark_safe("<b>y</b>"), str)()
    assert html_format("{}", safe_later) == format_html("{}", safe_later) == "<b>y</b>"


@pytest.mark.parametrize("code", ["HN-A1", "湖南 街道", "a%b", "x?y#z", "c&d=e", "~:@!$'()*+,;"])
def test_link_maker_gives_what_reverse_gives(code):
    from django.urls import reverse

    from kangle.core.markup import link_maker

    assert link_maker("orgs:unit")(code) == reverse("orgs:unit", args=[code])


@pytest.mark.parametrize("code", ["", "a/b"])
def test_link_maker_refuses_what_reverse_refuses(code):
    from django.urls import NoReverseMatch, reverse

    from kangle.core.markup import link_maker

    with pytest.raises(NoReverseMatch):
        reverse("orgs:unit", args=[code])
    with pytest.raises(NoReverseMatch):
        link_maker("orgs:unit")(code)


def test_link_maker_with_fixed_arguments_gives_what_reverse_gives():
    from django.urls import reverse

    from kangle.core.markup import link_maker

    link = link_maker("cases:desk-act", "MQ 2026-1 号")
    assert link("accept") == reverse("cases:desk-act", args=["MQ 2026-1 号", "accept"])
