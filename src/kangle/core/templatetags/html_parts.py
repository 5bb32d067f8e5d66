"""Repeated markup built in Python: the template engine spends tens of microseconds on every variable and
``{% if %}`` of a loop body, and a staff page's navigation and filter drop-downs repeat one body dozens of
times on every request. Every value is escaped by ``format_html``."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def select_options(choices: Iterable, selected="") -> SafeString:
    """``<option>`` elements for ``(value, label)`` pairs, the one equal to ``selected`` (compared as text)
    marked selected."""
    chosen = "" if selected is None else str(selected)
    return format_html_join(
        "\n",
        '<option value="{}"{}>{}</option>',
        ((value, mark_safe(" selected") if str(value) == chosen else "", label) for value, label in choices),
    )


@register.simple_tag(takes_context=True)
def workbench_nav(context) -> SafeString:
    """The workbench's navigation groups, the current page's entry marked ``aria-current``."""
    match = getattr(context.get("request"), "resolver_match", None)
    current = getattr(match, "view_name", None)
    return format_html_join(
        "\n",
        '<div class="wb-nav-group" data-group="{}">\n<h2 class="wb-nav-title">{}</h2>\n{}</div>',
        (
            (
                group["key"],
                group["label"],
                format_html_join(
                    "",
                    '<a href="{}"{}>{}</a>\n',
                    (
                        (item["url"], _current(item["url_name"] == current), item["label"])
                        for item in group["items"]
                    ),
                ),
            )
            for group in context.get("workbench_groups") or ()
        ),
    )


def _current(is_current: bool) -> SafeString:
    return mark_safe(' aria-current="page"') if is_current else mark_safe("")
