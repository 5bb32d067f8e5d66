"""``{% clock_badge clock %}``, ``{% clock_rows clocks %}`` and ``{% timeline_items events photos public %}``: see
``kangle.cases.markup``."""

from __future__ import annotations

from django import template

from kangle.cases import markup

register = template.Library()


@register.simple_tag
def clock_badge(clock):
    return markup.clock_badge(clock or None)


@register.simple_tag
def clock_rows(clocks):
    return markup.clock_rows(clocks)


@register.simple_tag
def timeline_items(events, photos=None, public=False):
    return markup.timeline_items(events, photos, public=bool(public))
