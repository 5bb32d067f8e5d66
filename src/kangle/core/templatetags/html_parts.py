"""Repeated markup built in Python: the template engine spends tens of microseconds on every variable and
``{% if %}`` of a loop body, and a staff page's navigation and filter drop-downs repeat one body dozens of
times on every request. Every value is escaped by ``core.markup.html_format``."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kangle.core.markup import Stencil, html_format

register = template.Library()


# Rendered drop-downs by everything they are made of (the language, the choice selected, the pairs with
# each value's type): the same filter form is rendered on every visit to a list, and its community and grid
# drop-downs hold up to a few hundred options. Only pairs of plain values are kept (text, numbers, lazy
# text), so the markup is a pure function of its key; emptied when full.
_OPTIONS: dict[tuple, SafeString] = {}
OPTIONS_KEPT = 512
_PLAIN = {str, int, SafeString}


@register.simple_tag
def select_options(choices: Iterable, selected="") -> SafeString:
    """``<option>`` elements for ``(value, label)`` pairs, the one equal to ``selected`` (compared as text)
    marked selected."""
    chosen = "" if selected is None else str(selected)
    pairs = tuple(tuple(pair) for pair in choices)
    if not any(str(value) == chosen for value, _label in pairs):
        chosen = ""  # a value from the query string that is no option: the same markup as none chosen
    plain = all(type(part) in _PLAIN or isinstance(part, Promise) for pair in pairs for part in pair)
    # With the types: True and 1, or safe and plain text, are equal as keys but not as markup.
    key = (get_language(), chosen, tuple((type(v), v, type(lab), lab) for v, lab in pairs)) if plain else None
    found = _OPTIONS.get(key) if plain else None
    if found is None:
        found = _joined(
            "\n",
            (
                html_format(
                    '<option value="{}"{}>{}</option>',
                    value,
                    _SELECTED if str(value) == chosen else "",
                    label,
                )
                for value, label in pairs
            ),
        )
        if plain:
            if len(_OPTIONS) >= OPTIONS_KEPT:
                _OPTIONS.clear()
            _OPTIONS[key] = found
    return found


# Rendered navigation by the key of the entries it shows (``navigation.answers_key``: roles, language, URL
# prefix) and the current page: the same dozen links on every workbench page.
_NAVIGATION: dict[tuple, SafeString] = {}
NAVIGATION_KEPT = 512


@register.simple_tag(takes_context=True)
def workbench_nav(context) -> SafeString:
    """The workbench's navigation: the to-do list, then the groups under a "Menu" disclosure, the current
    page's entry marked ``aria-current``; nothing for a person with no group."""
    match = getattr(context.get("request"), "resolver_match", None)
    current = getattr(match, "view_name", None)
    made_from = context.get("workbench_key")
    key = None if made_from is None else (made_from, current)
    found = _NAVIGATION.get(key) if key is not None else None
    if found is None:
        found = _navigation(context.get("workbench_groups") or (), current)
        if key is not None:
            if len(_NAVIGATION) >= NAVIGATION_KEPT:
                _NAVIGATION.clear()
            _NAVIGATION[key] = found
    return found


def _navigation(groups, current) -> SafeString:
    # The groups sit in a disclosure, open as written: beside the page on a wide screen, and folded by
    # ``core/workbench.js`` on a phone, where open they would stand between the header and the page's work.
    if not groups:
        return SafeString("")
    return html_format(
        '<nav class="wb-nav" aria-label="{}">\n<a href="{}"{}>{}</a>\n'
        '<details class="wb-nav-menu" open>\n<summary>{}</summary>\n{}\n</details>\n</nav>',
        _("Navigation"),
        reverse("home"),
        _CURRENT if current == "home" else "",
        _("To do"),
        _("Menu"),
        _groups(groups, current),
    )


def _groups(groups, current) -> SafeString:
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
            for group in groups
        ),
    )


_SELECTED = mark_safe(" selected")
_CURRENT = mark_safe(' aria-current="page"')


@register.simple_tag(takes_context=True)
def workbench_breadcrumb(context) -> SafeString:
    """Where a signed-in person's page sits: the workbench, then the crumbs the navigation gives
    (``navigation.breadcrumb``), each a link when it has an address."""
    user = context.get("user")
    if not getattr(user, "is_authenticated", False):
        return SafeString("")
    key = _made_for()
    head = _BREADCRUMB_HEADS.get(key)
    if head is None:
        head = html_format(
            '<nav class="breadcrumb" aria-label="{}"><a href="{}">{}</a>',
            _("Breadcrumb"),
            reverse("home"),
            _("Workbench"),
        )
        if len(_BREADCRUMB_HEADS) >= NAVIGATION_KEPT:
            _BREADCRUMB_HEADS.clear()
        _BREADCRUMB_HEADS[key] = head
    crumbs = _joined(
        "",
        (
            html_format(' › <a href="{}">{}</a>', crumb["url"], crumb["label"])
            if crumb["url"]
            else html_format(" › <span>{}</span>", crumb["label"])
            for crumb in context.get("breadcrumb") or ()
        ),
    )
    return SafeString(f"{head}{crumbs}</nav>")


# The breadcrumb's first link by the words and addresses it is made in (``_made_for``).
_BREADCRUMB_HEADS: dict[tuple, SafeString] = {}


def _joined(separator: str, parts: Iterable[SafeString]) -> SafeString:
    return mark_safe(separator.join(parts))  # noqa: S308 - every part is escaped by html_format


# The layouts' headers, rendered once per language and kind of person (``core.markup.Stencil``).
_WORKBENCH_HEADER = Stencil(
    "core/_workbench_header.html", ("name", "search_query", "csrf_input", "next_path")
)
_LANGUAGE_SWITCH = Stencil("core/language_switch.html", ("csrf_input", "next_path"))


def _request_values(context) -> dict:
    request = context.get("request")
    token = context.get("csrf_token")
    given = bool(token) and token != "NOTPROVIDED"  # noqa: S105 - Django's marker for "no token", not a secret
    return {
        # What {% csrf_token %} renders, by Django's own node: the hidden input, or nothing without a token
        # ("NOTPROVIDED" too, which the node renders as nothing by a path Django deprecates).
        "csrf_input": CsrfTokenNode().render(context) if given else "",
        "next_path": request.get_full_path() if request is not None else "",
    }


def _made_for() -> tuple:
    """What every stencil's markup depends on besides its own choices: the words and the addresses."""
    return (get_language(), get_script_prefix(), get_urlconf())


@register.simple_tag(takes_context=True)
def workbench_header(context) -> SafeString:
    """The workbench's header: the brand, the search box for staff, messages, the person and logging out,
    and the language switch."""
    user = context.get("user")
    signed_in = bool(getattr(user, "is_authenticated", False))
    workbench_user = signed_in and user.is_workbench_user
    values = {
        **_request_values(context),
        "name": str(user) if signed_in else "",
        "search_query": context.get("search_query") or "",
    }
    return _WORKBENCH_HEADER.render(
        (*_made_for(), signed_in, workbench_user),
        {"signed_in": signed_in, "workbench_user": workbench_user},
        values,
    )


@register.simple_tag(takes_context=True)
def language_switch(context) -> SafeString:
    """The form that switches the page to the other language and comes back to it."""
    return _LANGUAGE_SWITCH.render(_made_for(), {}, _request_values(context))


def forget_markup() -> None:
    """Drop the drop-down and navigation markup kept per process (a template or a translation changed)."""
    _OPTIONS.clear()
    _NAVIGATION.clear()
    _BREADCRUMB_HEADS.clear()
