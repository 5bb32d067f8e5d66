"""Markup that case pages repeat per row, built in Python (every value escaped by ``format_html`` or
``core.markup.html_format``): the clock badge and the timeline. The template engine spent more on an include
per row and its variables than the rest of a page's work; the templates call these through
``{% load case_parts %}``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from kangle.cases.models import EventKind, WorkStep
from kangle.cases.selectors import ClockView
from kangle.core.markup import html_format
from kangle.core.timeutil import duration_words


def local_time(
    moment: dt.datetime | None, pattern: str = "%m-%d %H:%M", zone: dt.tzinfo | None = None
) -> str:
    """``moment`` in the local zone (``zone``, when a page resolved it once for all its rows)."""
    return timezone.localtime(moment, zone).strftime(pattern) if moment else ""


class BadgeWords:
    """What every clock badge of a page shares, resolved once a page: the words in the active language and
    the local zone. A queue of 50 rows translated its badges' words and looked up the zone 150 times."""

    def __init__(self):
        self.zone = timezone.get_current_timezone()
        self.overdue, self.left = _("Overdue %(t)s"), _("%(t)s left")
        self.fixed = {"paused": _("Paused"), "done": _("On time"), "late": _("Late"), "off": "—"}
        self.durations = duration_words()

    def label(self, clock: ClockView) -> str:
        """The words of a clock badge."""
        if clock.colour == "bad":
            return self.overdue % {"t": clock.remaining_in(self.durations)}
        fixed = self.fixed.get(clock.colour)
        return fixed if fixed is not None else self.left % {"t": clock.remaining_in(self.durations)}


def clock_badge(clock: ClockView | None, words: BadgeWords | None = None) -> SafeString:
    """A clock's coloured badge: its state in words, the milestone and deadline on hover. A page of many
    badges passes its ``words``, made once."""
    if clock is None:
        return mark_safe("")
    words = words or BadgeWords()
    return html_format(
        '<span class="sla sla-{}" data-testid="sla" data-colour="{}" title="{} · {}">{}</span>',
        clock.colour,
        clock.colour,
        clock.name,
        local_time(clock.deadline, zone=words.zone),
        words.label(clock),
    )


def clock_rows(clocks: Iterable[ClockView]) -> SafeString:
    """The ``<tr>`` rows of a case's clocks table: each milestone, its deadline, its badge and when it was met,
    in the local zone. Built here rather than in the template, which spent more on a case page's clocks
    (their date filters and badges) than on the rest of its card."""
    words = BadgeWords()
    return SafeString(
        "".join(
            html_format(
                "<tr>\n<td>{}</td>\n<td>{}</td>\n<td>{}{}</td>\n</tr>",
                clock.name,
                local_time(clock.deadline, "%Y-%m-%d %H:%M", zone=words.zone),
                clock_badge(clock, words),
                html_format(' <span class="muted">{}</span>', local_time(clock.met_at, zone=words.zone))
                if clock.met_at
                else "",
            )
            for clock in clocks
        )
    )


def timeline_items(
    events: Iterable[dict], photos: Mapping[int, list[int]] | None = None, *, public: bool = False
) -> SafeString:
    """The ``<li>`` items of a case's timeline from its record's events and the keys of its photos by event
    (``selectors.case_record``); a public page names no actor."""
    photos = photos or {}
    kinds, steps = dict(EventKind.choices), dict(WorkStep.choices)
    words = {"photo": _("Photo"), "zone": timezone.get_current_timezone()}
    items = [_event_item(event, photos.get(event["id"], ()), public, kinds, steps, words) for event in events]
    if not items:
        return format_html("<li>{}</li>", _("Nothing yet."))
    return mark_safe("".join(items))  # noqa: S308 - every part is escaped by html_format


def _event_item(event: dict, photo_keys, public: bool, kinds: dict, steps: dict, words: dict) -> str:
    when = local_time(event["at"], "%Y-%m-%d %H:%M", words["zone"])
    if event["actor_id"] and not public:
        when = html_format("{} · {}", when, event["actor__display_name"] or event["actor__username"])
    what = html_format("<b>{}</b>", kinds.get(event["kind"], event["kind"]))
    if event["step"]:
        what += html_format(" · {}", steps.get(event["step"], event["step"]))
    if event["note"]:
        what += html_format(" — {}", event["note"])
    shown = ""
    if photo_keys:
        links = (reverse("file", args=("case-photo", pk)) for pk in photo_keys)
        shown = html_format(
            '<div class="photos">{}</div>\n',
            mark_safe(  # noqa: S308 - every part is escaped by html_format
                "".join(
                    html_format(
                        '<a href="{}" target="_blank"><img src="{}" alt="{}"></a>', url, url, words["photo"]
                    )
                    for url in links
                )
            ),
        )
    return html_format(
        '<li data-kind="{}">\n<div class="when">{}</div>\n<div>{}</div>\n{}</li>\n',
        event["kind"],
        when,
        what,
        shown,
    )
