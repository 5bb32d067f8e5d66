"""Layout headers made once per language and kind of person (``core.markup.Stencil``): each request's own
values go into the holes, escaped, and the markup is what the template itself renders with those values."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe

from kangle.core.markup import Stencil

HOSTILE = "<script>alert(\"x\")</script> & 'quoted' {0} {}"


class _Person:
    def __init__(self, name: str, *, signed_in: bool = True, staff: bool = True):
        self.name, self.is_authenticated, self.is_workbench_user = name, signed_in, staff

    def __str__(self):
        return self.name


def _header(user, *, query="", token="t" * 64, path="/cases/desk/?page=2") -> str:
    request = SimpleNamespace(get_full_path=lambda: path)
    context = {"user": user, "request": request, "csrf_token": token, "search_query": query}
    return Template("{% load html_parts %}{% workbench_header %}").render(Context(context))


def _as_the_template_renders_it(user, *, query="", token="t" * 64, path="/cases/desk/?page=2") -> str:
    signed_in = user.is_authenticated
    # The CSRF input exactly as Django's own tag renders it for this token (nothing when there is none).
    with warnings.catch_warnings():  # Django's tag renders "NOTPROVIDED" as nothing by a deprecated path
        warnings.simplefilter("ignore", DeprecationWarning)
        csrf_input = Template("{% csrf_token %}").render(Context({"csrf_token": token}))
    return render_to_string(
        "core/_workbench_header.html",
        {
            "signed_in": signed_in,
            "workbench_user": signed_in and user.is_workbench_user,
            "name": str(user) if signed_in else "",
            "search_query": query,
            "csrf_input": mark_safe(csrf_input),  # noqa: S308 - Django's own markup
            "next_path": path,
        },
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "user", [_Person("王秀英"), _Person("resident", staff=False), _Person("", signed_in=False)]
)
def test_the_header_is_the_templates_markup_with_this_requests_values(language, user):
    with translation.override(language):
        for query, token, path in (
            ("", "a" * 64, "/"),
            (HOSTILE, "b" * 64, "/members/?q=" + HOSTILE),
            ("", "", "/"),  # no token: no input, as {% csrf_token %}
            ("", "NOTPROVIDED", "/"),
        ):
            person = _Person(HOSTILE, signed_in=user.is_authenticated, staff=user.is_workbench_user)
            for who in (user, person):
                made = _header(who, query=query, token=token, path=path)
                assert made == _as_the_template_renders_it(who, query=query, token=token, path=path)


def test_values_are_escaped_and_never_kept_from_an_earlier_request():
    with translation.override("zh-hans"):
        first = _header(_Person("李四"), query="白蚁", token="c" * 64)
        second = _header(_Person(HOSTILE), query=HOSTILE, token="d" * 64)
    assert "李四" in first and 'value="白蚁"' in first and first.count("c" * 64) == 2  # both forms
    assert "李四" not in second and "白蚁" not in second and "c" * 64 not in second
    assert "<script>" not in second and "&lt;script&gt;" in second and second.count("d" * 64) == 2


def test_the_words_follow_the_language_and_staff_alone_get_the_search_box():
    with translation.override("zh-hans"):
        chinese = _header(_Person("王秀英"))
    with translation.override("en"):
        english = _header(_Person("王秀英"))
        resident = _header(_Person("resident", staff=False))
        anonymous = _header(_Person("", signed_in=False))
    assert "退出" in chinese and "Log out" in english
    assert 'role="search"' in english and 'role="search"' not in resident
    assert "wb-name" not in anonymous and "language-switch" in anonymous


def test_a_stencil_fills_each_hole_wherever_it_stands_and_forgets_when_full(monkeypatch):
    stencil = Stencil("core/language_switch.html", ("csrf_input", "next_path"))
    monkeypatch.setattr(Stencil, "KEPT", 2)
    for index in range(5):
        values = {"csrf_input": f"<token{index}>", "next_path": f"/p{index}"}
        made = stencil.render(("key", index), {}, values)
        assert f"&lt;token{index}&gt;" in made and f'value="/p{index}"' in made
        assert len(stencil._made) <= 2
