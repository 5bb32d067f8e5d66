"""Markup that pages repeat per row, built in Python.

``html_format`` is ``django.utils.html.format_html`` for rows: the same escaping (``html.escape`` with
quotes, or a value's own ``__html__``), without the checks for lazy text that Django makes around every
value, twice. A case list page formats about 150 values a request, and those checks were a tenth of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from html import escape
from urllib.parse import quote

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString

# Most values hold none of the characters escaping replaces: one search finds that in half the time
# ``html.escape`` takes to make its five replacements.
_SPECIAL = re.compile("[&<>\"']")


def escaped(value) -> str:
    """``conditional_escape``: markup already safe as it is, anything else as text, escaped."""
    if type(value) is str:
        return value if _SPECIAL.search(value) is None else escape(value)
    if isinstance(value, Promise):  # lazy text: its translation may itself be marked safe
        value = str(value)
    html = getattr(value, "__html__", None)
    if html is not None:
        return html()
    text = str(value)
    return text if _SPECIAL.search(text) is None else escape(text)


def html_format(template: str, *values) -> SafeString:
    """``template`` (``str.format`` fields, ``{}`` only) with every value escaped as ``escaped`` does."""
    return SafeString(template.format(*map(escaped, values)))


# What ``reverse`` leaves unquoted in a path argument (``django.urls.resolvers``).
_PATH_SAFE = RFC3986_SUBDELIMS + "/~:@"
_ONE_SEGMENT = re.compile("[^/]+")


def link_maker(route: str, *fixed) -> Callable[[str], str]:
    """``reverse(route, args=[*fixed, value])`` for the many values of one page, from a single ``reverse``:
    the route's last argument, a ``<str:…>``, quoted as ``reverse`` quotes it. Resolving the route for each
    row cost more than the row's own markup. A value ``reverse`` would refuse (empty, or with a slash) is
    refused."""
    marker = "0link0"
    head, _marker, tail = reverse(route, args=[*fixed, marker]).rpartition(marker)

    def link(value) -> str:
        text = str(value)
        if _ONE_SEGMENT.fullmatch(text) is None:
            raise NoReverseMatch(f"{route}: {text!r} is not one path segment")
        return f"{head}{quote(text, safe=_PATH_SAFE)}{tail}"

    return link


# A hole in a stencil's markup while it is made: private-use characters, which escaping leaves as they are
# and no translation or address holds.
_HOLE = re.compile("\ue000(\\d+)\ue001")


_STENCILS: list[Stencil] = []


def forget_stencils() -> None:
    """Every stencil made anew on its next use (a template or a translation changed)."""
    for stencil in _STENCILS:
        stencil.forget()


class Stencil:
    """A template fragment rendered once per key, its per-request values left as holes.

    A layout's header is the same words and links on every page a person sees in one language; only their
    name, a search box's words, the CSRF token and the page's own address change. Rendering it through the
    template engine on every request cost more than a list page's rows. The fragment stays a template (its
    words are translated as any other); it is rendered once per ``key`` with each hole's name standing in for
    its value, and later requests only put the values, escaped, into the holes. ``key`` must name all the
    rest the fragment depends on (the language, which parts of it the person sees). Bounded: emptied when
    full."""

    KEPT = 256

    def __init__(self, template_name: str, holes: tuple[str, ...]):
        self.template_name, self.holes = template_name, holes
        self._made: dict[Hashable, tuple[tuple[str, ...], tuple[int, ...]]] = {}
        _STENCILS.append(self)

    def forget(self) -> None:
        """Make the fragment anew on next use (its template or its words changed)."""
        self._made.clear()

    def render(self, key: Hashable, context: dict, values: dict) -> SafeString:
        """The fragment for ``key`` (made from ``context`` the first time), ``values`` in its holes."""
        made = self._made.get(key)
        if made is None:
            made = self._make(context)
            if len(self._made) >= self.KEPT:
                self._made.clear()
            self._made[key] = made
        texts, holes = made
        filled = [escaped(values[name]) for name in self.holes]
        out = [texts[0]]
        for hole, text in zip(holes, texts[1:], strict=True):
            out += (filled[hole], text)
        return SafeString("".join(out))

    def _make(self, context: dict) -> tuple[tuple[str, ...], tuple[int, ...]]:
        from django.template.loader import render_to_string

        marks = {name: SafeString(f"\ue000{index}\ue001") for index, name in enumerate(self.holes)}
        parts = _HOLE.split(render_to_string(self.template_name, {**context, **marks}))
        # split() alternates text and a hole's number: text, hole, text, …, text.
        return tuple(parts[0::2]), tuple(int(number) for number in parts[1::2])
