"""Repeated markup built in Python: the template engine spends tens of microseconds on every variable and
``{% if %}`` of a loop body, and a staff page's navigation and filter drop-downs repeat one body dozens of
times on every request. Every value is escaped by ``core.markup.html_format``."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.safestring import SafeString, mark_safe

from kangle.core.markup import html_format

register = template.Library()


@register.simple_tag
def select_options(choices: Iterable, selected="") -> SafeString:
    """``<option>`` elements for ``(value, label)`` pairs, the one equal to ``selected`` (compared as text)
    marked selected."""
    chosen = "" if selected is None else str(selected)
    return _joined(
        "\n",
        (
            html_format(
                '<option value="{}"{}>{}</option>', value, _SELECTED if str(value) == chosen else "", label
            )
            for value, label in choices
        ),
    )


@register.simple_tag(takes_context=True)
def workbench_nav(context) -> SafeString:
    """The workbench's navigation groups, the current page's entry marked ``aria-current``."""
    match = getattr(context.get("request"), "resolver_match", None)
    current = getattr(match, "view_name", None)
    return _joined(
        "\n",
        (
            html_format(
                '<div class="wb-nav-group" data-group="{}">\n<h2 class="wb-nav-title">{}</h2>\n{}</div>',
                group["key"],
                group["label"],
                _joined(
                    "",
                    (
                        html_format(
                            '<a href="{}"{}>{}</a>\n',
                            item["url"],
                            _CURRENT if item["url_name"] == current else "",
                            item["label"],
                        )
                        for item in group["items"]
                    ),
                ),
            )
            for group in context.get("workbench_groups") or ()
        ),
    )


_SELECTED = mark_safe(" selected")
_CURRENT = mark_safe(' aria-current="page"')


def _joined(separator: str, parts: Iterable[SafeString]) -> SafeString:
    return mark_safe(separator.join(parts))  # noqa: S308 - every part is escaped by html_format
