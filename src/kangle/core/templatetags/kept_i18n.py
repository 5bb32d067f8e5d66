"""Django's ``i18n`` template tags, with a fixed phrase's translation kept once rendered.

A page shows a few dozen fixed phrases through ``{% translate "…" %}`` (25–31 on the case and member pages),
and Django renders each of them anew on every request: the active translation looked up, the catalogue
asked, the result checked for escaping — about 5.6 µs a tag, against 1.4 µs kept. A phrase written in the
template (no filter, no context, not ``noop``, not ``as``) renders the same text for the same language
whatever the page, so that text is kept per process, by language and escaping. Every other form of the
tag, and every other tag of the library, is Django's own. ``core.apps`` drops the kept text with the rest
of the markup kept per process, whenever Django reloads its translations.

The project's template backend (``core.template_backend``) puts this module under Django's name ``i18n``:
templates load it as they always have, and message extraction reads the same tags. (As a module of
``core.templatetags`` it could also be loaded as ``kept_i18n``; no template needs to.)
"""

from __future__ import annotations

from django import template
from django.templatetags import i18n as django_i18n
from django.utils.translation import get_language

register = template.Library()
register.tags.update(django_i18n.register.tags)
register.filters.update(django_i18n.register.filters)

# (language, autoescape, phrase) → the rendered text. A deployment's phrases are a few thousand; the bound
# only keeps a mistake (a phrase built at run time) from growing without end.
_KEPT: dict[tuple[str | None, bool, str], str] = {}
KEPT_MAX = 20_000


def forget_translations() -> None:
    """Render every phrase anew on its next use (a translation changed)."""
    _KEPT.clear()


class KeptTranslateNode(django_i18n.TranslateNode):
    """``{% translate "phrase" %}``: Django's node, its text rendered once per language and escaping."""

    def render(self, context):
        key = (get_language(), context.autoescape, self.filter_expression.var.literal)
        text = _KEPT.get(key)
        if text is None:
            text = super().render(context)
            if len(_KEPT) >= KEPT_MAX:
                _KEPT.clear()
            _KEPT[key] = text
        return text


def _fixed_phrase(node: django_i18n.TranslateNode) -> bool:
    """Whether the node renders a phrase written in the template, with nothing that varies per request."""
    expression = node.filter_expression
    return (
        not node.noop
        and node.asvar is None
        and node.message_context is None
        and not expression.filters
        and isinstance(expression.var, template.Variable)
        and expression.var.literal is not None
    )


@register.tag("translate")
@register.tag("trans")
def do_translate(parser, token):
    node = django_i18n.do_translate(parser, token)
    if not _fixed_phrase(node):
        return node
    return KeptTranslateNode(node.filter_expression, node.noop)
